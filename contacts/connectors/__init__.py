"""The secondary targets a contact is pushed to once staff link it (Prioticket, Koywe): each connector says its
target's request, checks, client and rate; the push engine (backoffice/sync/links.py) does the rest.
Registered by ContactsConfig.ready()."""
