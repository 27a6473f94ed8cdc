"""Grades, on VTODOs, the features caldav-server-tester 1.7.0 grades only with VEVENTs.

    caldav_task_features.py URL USERNAME TOKEN

caldav-server-tester stores events before anything else, so on a server that holds tasks only
its sync-token, ETag, If-None-Match, stable-URL, get-by-URL, RELATED-TO, is-not-defined,
recurrence and text-search checks never run. This script does what each of those checks does,
with the `caldav` library from PyPI (not written here), on tasks in a list it makes and deletes.
It prints one JSON object: feature name -> {"support": "full"} or {"support": ..., "behaviour":
...}, in the tester's words.
"""

import json
import sys
import uuid
from datetime import datetime, timezone

import caldav
from caldav.elements import dav
from caldav.lib.error import AuthorizationError, DAVError, NotFoundError

BASE = datetime.now(timezone.utc).year + 1


def vtodo(uid, summary, *lines):
    body = "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//todomvc task features//EN", "BEGIN:VTODO",
         f"UID:{uid}", f"DTSTAMP:{BASE}0101T000000Z", f"SUMMARY:{summary}", *lines,
         "END:VTODO", "END:VCALENDAR", ""]
    )
    return body


def uids(found):
    return {str(item.icalendar_component.get("uid")) for item in found}


class Grades:
    def __init__(self):
        self.features = {}

    def set(self, feature, ok, behaviour=None):
        grade = {"support": "full" if ok else "unsupported"}
        if not ok and behaviour:
            grade["behaviour"] = behaviour
        self.features[feature] = grade


def sync_tokens(cal, grades):
    token1 = cal.objects(disable_fallback=True).sync_token
    todo = cal.add_todo(vtodo(f"sync-{uuid.uuid4().hex[:8]}", "Sync token test task"))
    token2 = cal.objects(disable_fallback=True).sync_token
    unchanged = len(list(cal.objects_by_sync_token(sync_token=token2, disable_fallback=True)))
    since_first = len(list(cal.objects_by_sync_token(sync_token=token1, disable_fallback=True)))
    todo.icalendar_instance.subcomponents[0]["SUMMARY"] = "Modified immediately"
    todo.save()
    modified = cal.objects_by_sync_token(sync_token=token2, disable_fallback=True)
    grades.set(
        "sync-token",
        bool(token1) and unchanged == 0 and since_first == 1 and len(list(modified)) == 1,
        f"no change: {unchanged}, one: {since_first}, modified: {len(list(modified))}",
    )
    token3 = modified.sync_token
    todo.delete()
    deleted = len(list(cal.objects_by_sync_token(sync_token=token3, disable_fallback=True)))
    grades.set("sync-token.delete", deleted == 1, f"{deleted} changes listed after a delete")
    refused = []
    for token in ("http://example.invalid/never-issued", "0" * 40):
        query = (
            '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
            f"<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>"
            "<D:prop><D:getetag/></D:prop></D:sync-collection>"
        )
        try:
            response = cal.client.report(str(cal.url), query, depth=0)
            refused.append(f"{token}: {response.status}")
        except AuthorizationError as err:
            if dav.ValidSyncToken.tag not in err.preconditions:
                refused.append(f"{token}: 403 without valid-sync-token")
    grades.set("sync-token.invalid-token", not refused, "; ".join(refused))


def etags(cal, grades):
    uid = f"etag-{uuid.uuid4().hex[:8]}"
    url = f"{str(cal.url).rstrip('/')}/{uid}.ics"
    headers = {"Content-Type": "text/calendar; charset=utf-8"}
    created = cal.client.put(url, vtodo(uid, "ETag test task"), {**headers, "If-None-Match": "*"})
    etag = created.headers.get("ETag", "")
    again = cal.client.put(url, vtodo(uid, "ETag test task"), {**headers, "If-None-Match": "*"})
    matched = cal.client.put(url, vtodo(uid, "Edited"), {**headers, "If-Match": etag})
    stale = cal.client.put(url, vtodo(uid, "Stale"), {**headers, "If-Match": etag})
    grades.set(
        "save.etag",
        etag.startswith('"') and matched.status in (200, 204) and stale.status == 412,
        f"ETag {etag!r}, If-Match: {matched.status}, stale If-Match: {stale.status}",
    )
    grades.set(
        "save.if-none-match",
        created.status == 201 and again.status == 412,
        f"new: {created.status}, existing: {again.status}",
    )
    cal.client.delete(url)


def urls(cal, grades):
    uid = f"url-{uuid.uuid4().hex[:8]}"
    saved = cal.add_todo(vtodo(uid, "Stable URL test task"))
    found = cal.object_by_uid(uid)
    grades.set("save-load.stable-url", str(found.url) == str(saved.url), f"{saved.url} -> {found.url}")
    response = cal.client.request(str(found.url))
    grades.set("save-load.get-by-url", response.status == 200, f"GET {response.status}")
    saved.delete()


def related_to(cal, grades):
    uid = f"related-{uuid.uuid4().hex[:8]}"
    saved = cal.add_todo(
        vtodo(uid, "Subtask", "RELATED-TO;RELTYPE=PARENT:some-parent-uid",
              "RELATED-TO;RELTYPE=SIBLING:some-sibling-uid")
    )
    saved.load()
    count = saved.data.count("RELATED-TO")
    grades.set("save-load.icalendar.related-to", count == 2, f"{count} RELATED-TO lines back")
    saved.delete()


def searches(cal, grades):
    made = [
        cal.add_todo(vtodo("csc_task_plain", "plain task", f"DUE:{BASE}0108T120000Z")),
        cal.add_todo(vtodo("csc_task_with_categories", "Task With Categories",
                           "CATEGORIES:hands,feet,head")),
        cal.add_todo(vtodo("csc_task_with_class", "task with class", "CLASS:CONFIDENTIAL")),
        cal.add_todo(vtodo("csc_task_done", "done task", "STATUS:COMPLETED",
                           f"COMPLETED:{BASE}0102T000000Z", "PERCENT-COMPLETE:100")),
        cal.add_todo(vtodo("csc_task_old", "task from 2000", "DUE:20000109T130000Z")),
        cal.add_todo(vtodo("csc_recurring_task", "monthly recurring task",
                           f"DTSTART:{BASE}0112T120000Z", f"DUE:{BASE}0112T130000Z",
                           "RRULE:FREQ=MONTHLY")),
        cal.add_todo(vtodo("csc_recurring_count_task", "task done three times",
                           f"DTSTART:{BASE}0119T065500Z", "DURATION:PT10M",
                           "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3")),
    ]
    search = lambda **kw: uids(cal.search(todo=True, post_filter=False, **kw))  # noqa: E731
    no_category = search(no_category=True, include_completed=True)
    no_class = search(no_class=True, include_completed=True)
    open_ones = search(include_completed=False)
    grades.set("search.is-not-defined.category",
               "csc_task_with_categories" not in no_category and "csc_task_plain" in no_category,
               str(sorted(no_category)))
    grades.set("search.is-not-defined.class",
               "csc_task_with_class" not in no_class and "csc_task_plain" in no_class,
               str(sorted(no_class)))
    grades.set("search.is-not-defined.completed",
               "csc_task_done" not in open_ones and "csc_task_plain" in open_ones,
               str(sorted(open_ones)))
    grades.set("search.is-not-defined", all(
        grades.features[f"search.is-not-defined.{kind}"]["support"] == "full"
        for kind in ("category", "class", "completed")))
    category = search(category="feet", include_completed=True)
    grades.set("search.text.category", category == {"csc_task_with_categories"}, str(category))
    substring = search(summary="With Cat", include_completed=True)
    grades.set("search.text.substring", substring == {"csc_task_with_categories"}, str(substring))
    recurring = cal.object_by_uid("csc_recurring_task")
    grades.set("save-load.todo.recurrences", "RRULE:FREQ=MONTHLY" in recurring.data,
               recurring.data)
    counted = cal.object_by_uid("csc_recurring_count_task")
    rrule = counted.icalendar_component.get("RRULE")
    grades.set("save-load.todo.recurrences.count", bool(rrule) and rrule.get("COUNT") == [3],
               str(rrule))
    january = search(start=datetime(BASE, 1, 1, tzinfo=timezone.utc),
                     end=datetime(BASE, 1, 31, tzinfo=timezone.utc), include_completed=True)
    grades.set("search.time-range.todo.no-dtstart", "csc_task_plain" in january,
               str(sorted(january)))
    old = search(start=datetime(2000, 1, 1, tzinfo=timezone.utc),
                 end=datetime(2000, 1, 31, tzinfo=timezone.utc), include_completed=True)
    grades.set("search.time-range.todo.old-dates", "csc_task_old" in old, str(sorted(old)))
    march = search(start=datetime(BASE, 3, 1, tzinfo=timezone.utc),
                   end=datetime(BASE, 3, 31, tzinfo=timezone.utc), include_completed=True)
    grades.set("search.recurrences.includes-implicit.todo", "csc_recurring_task" in march,
               str(sorted(march)))
    for todo in made:
        todo.delete()


def main():
    url, username, token = sys.argv[1:4]
    grades = Grades()
    with caldav.DAVClient(url=url, username=username, password=token) as client:
        principal = client.principal()
        name = f"Task features {uuid.uuid4().hex[:6]}"
        cal = principal.make_calendar(name=name, supported_calendar_component_set=["VTODO"])
        try:
            for check in (sync_tokens, etags, urls, related_to, searches):
                try:
                    check(cal, grades)
                except (DAVError, NotFoundError) as err:
                    grades.features[check.__name__] = {"support": "ungraceful", "behaviour": str(err)}
        finally:
            cal.delete()
    print(json.dumps(grades.features, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
