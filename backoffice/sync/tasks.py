"""Queue tasks: thin, they take ids and call the push layer."""

from django_tasks import task

from . import links, push


@task()
def push_record(resource: str, record_id: str) -> str:
    return push.push_now(resource, record_id)


@task()
def sweep() -> dict:
    return push.sweep()


@task()
def push_link(target: str, link_id: int) -> str:
    return links.push_now(target, link_id)
