"""factory_boy factories for view tests: records look pulled from Qwoty (synced, nothing queued)."""

import functools
import uuid

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from backoffice.accounts import roles
from backoffice.sync import mirror as mirrors
from backoffice.sync.context import applying_upstream
from catalogs.models import Catalog
from contacts.models import Contact
from customers.models import Customer, TaxId

PASSWORD = "correct horse battery staple"


@functools.cache
def _default_password_hash() -> str:
    # Hashing is slow on purpose; tests create many users with the same password.
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    """A staff user: `role` is a group name from backoffice.accounts.roles (none by default)."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.password = make_password(extracted) if extracted else _default_password_hash()
        if create:
            self.save()

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set([Group.objects.get(name=extracted)])


def support_user(**kwargs):
    return UserFactory(role=roles.SUPPORT, **kwargs)


def sales_ops_user(**kwargs):
    return UserFactory(role=roles.SALES_OPS, **kwargs)


def manager_user(**kwargs):
    return UserFactory(role=roles.MANAGERS, **kwargs)


def superuser(**kwargs):
    return UserFactory(is_superuser=True, is_staff=True, **kwargs)


class MirroredFactory(factory.django.DjangoModelFactory):
    """Saves as a pull would: no push queued, and the last-synced snapshot equals the record."""

    id = factory.LazyFunction(uuid.uuid4)

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with applying_upstream():
            record = super()._create(model_class, *args, **kwargs)
            mirror = mirrors.for_model(record)
            record.last_synced = {"id": str(record.pk), **mirror.values(record)}
            record.save(update_fields=["last_synced"])
        return record


class CustomerFactory(MirroredFactory):
    class Meta:
        model = Customer

    name = factory.Faker("company")
    type = Customer.Type.COMPANY
    id_crm = factory.Sequence(lambda n: f"CRM-{n:05d}")


class TaxIdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxId

    customer = factory.SubFactory(CustomerFactory)
    tax = "VAT"
    tax_value = factory.Sequence(lambda n: f"FR{n:011d}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with applying_upstream():
            return super()._create(model_class, *args, **kwargs)


class ContactFactory(MirroredFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    phone = "+33 6 12 34 56 78"
    role = factory.LazyFunction(lambda: ["buyer"])


class CatalogFactory(MirroredFactory):
    class Meta:
        model = Catalog

    name = factory.Sequence(lambda n: f"Catalog {n:03d}")
    reference = factory.Sequence(lambda n: f"REF-{n:04d}")
    description = "Seasonal range."
    is_active = True
