"""A customer's country, guessed from its tax IDs (the contacts' phones are read in it)."""

from customers.tax_ids.validation import validate_tax_id


def customer_country(tax_ids: list[tuple[str, str]]) -> str | None:
    """The ISO alpha-2 country of the first of the customer's (tax, value) pairs that reveals one.

    Qwoty keeps no country on a customer, yet its contacts' phones often lack the "+": the tax
    IDs say which region to read them in. A number with a bad check digit still tells the country.
    """
    for tax, value in tax_ids:
        country = validate_tax_id(tax, value).country
        if country:
            return country
    return None
