"""Drives the server as a task app would, with the `caldav` library from PyPI (not written here).

    caldav_tasks.py URL USERNAME TOKEN COMMAND [TITLE]

COMMAND is one of:
  lists            the collections discovered from URL (/dav/), by display name
  create TITLE     a new task in the list "Todos"
  complete TITLE   marks the task done
  delete TITLE     deletes it
  open             the titles of the tasks not done (a calendar-query)
  all              the titles of every task, done ones included

Each prints one JSON value on standard output; any failure exits non-zero with the traceback.
"""

import json
import sys
import uuid

import caldav


def todos_list(client):
    principal = client.principal()
    for calendar in principal.calendars():
        if calendar.get_display_name() == "Todos":
            return calendar
    raise SystemExit("no calendar named Todos")


def find(calendar, title):
    for todo in calendar.search(todo=True, include_completed=True):
        if str(todo.icalendar_component.get("summary")) == title:
            return todo
    raise SystemExit(f"no task titled {title!r}")


def titles(todos):
    return sorted(str(todo.icalendar_component.get("summary")) for todo in todos)


def main():
    url, username, token, command, *rest = sys.argv[1:]
    title = rest[0] if rest else None
    with caldav.DAVClient(url=url, username=username, password=token) as client:
        if command == "lists":
            names = [c.get_display_name() for c in client.principal().calendars()]
            print(json.dumps(sorted(names)))
            return
        calendar = todos_list(client)
        if command == "create":
            calendar.save_todo(summary=title, uid=str(uuid.uuid4()), description="made by caldav")
            print(json.dumps("created"))
        elif command == "complete":
            find(calendar, title).complete()
            print(json.dumps("completed"))
        elif command == "delete":
            find(calendar, title).delete()
            print(json.dumps("deleted"))
        elif command == "open":
            print(json.dumps(titles(calendar.search(todo=True, include_completed=False))))
        elif command == "all":
            print(json.dumps(titles(calendar.search(todo=True, include_completed=True))))
        else:
            raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
