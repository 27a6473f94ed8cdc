//! Todos as CalDAV objects, in the models: the UID and name a todo made on the web gets, what a
//! client sent kept as sent, and brought up to date (keeping the rest) after a web edit.

use todomvc::models::{ListId, ListScope, NewTodo, Todo, TodoChanges, TodoIcal, TodoObject};

use crate::helpers::{Backend, TestDatabase, on_both_engines, test_settings};

const SENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//client//EN\r\n\
    BEGIN:VTODO\r\nUID:abc-123\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Buy milk\r\n\
    DESCRIPTION:From the corner shop\r\nDUE;VALUE=DATE:20261224\r\n\
    BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n\
    END:VTODO\r\nEND:VCALENDAR\r\n";

/// A migrated database of its own, and a connection to it.
fn migrated(backend: Backend) -> (TestDatabase, todomvc::db::PooledDbConnection) {
    let database = TestDatabase::create(backend);
    let mut settings = test_settings();
    settings.database.url = todomvc::db::DatabaseUrl::parse(&database.url).unwrap();
    let pool = todomvc::db::connect(&settings.database).unwrap();
    let mut conn = pool.get().unwrap();
    todomvc::models::run_pending_migrations(&mut conn).unwrap();
    (database, conn)
}

async fn a_todo_is_an_object_and_a_clients_object_is_kept(backend: Backend) {
    let (_database, mut conn) = migrated(backend);
    let scope = ListScope::of(ListId::OPEN);

    let before = todomvc::models::now();
    let web = Todo::create(
        &mut conn,
        scope,
        NewTodo {
            title: "Walk the dog".into(),
            position: None,
            completed: false,
        },
    )
    .unwrap();
    let all = TodoObject::all(&mut conn, scope).unwrap();
    assert_eq!(all.len(), 1);
    let own = &all[0];
    assert_eq!(own.uid(), format!("todomvc-{}", web.id));
    assert_eq!(own.name(), format!("todomvc-{}.ics", web.id));
    assert_eq!(own.etag(), "\"1\"");
    assert!(own.modified_at >= before, "every write stamps the todo");
    let ical = own.ical();
    assert!(ical.contains("SUMMARY:Walk the dog\r\n"), "{ical}");
    assert_eq!(
        TodoObject::named(&mut conn, scope, &own.name())
            .unwrap()
            .map(|o| o.todo.id),
        Some(web.id)
    );
    assert!(
        TodoObject::named(&mut conn, scope, "todomvc-999.ics")
            .unwrap()
            .is_none()
    );

    // A client's object: stored, and answered as sent while nothing changed it.
    let read = TodoIcal::read(SENT).unwrap();
    let todo = Todo::create(
        &mut conn,
        scope,
        NewTodo {
            title: read.title.clone(),
            position: read.order,
            completed: read.completed,
        },
    )
    .unwrap();
    TodoObject::keep(&mut conn, scope, &todo, ("mine.ics", SENT), &read).unwrap();
    let object = TodoObject::named(&mut conn, scope, "mine.ics")
        .unwrap()
        .unwrap();
    assert_eq!(object.ical(), SENT);
    assert_eq!(object.uid(), "abc-123");
    assert_eq!(
        TodoObject::with_uid(&mut conn, scope, "abc-123")
            .unwrap()
            .map(|o| o.todo.id),
        Some(todo.id)
    );
    // It no longer answers to the name the server would have given it.
    let own_name = format!("todomvc-{}.ics", todo.id);
    assert!(
        TodoObject::named(&mut conn, scope, &own_name)
            .unwrap()
            .is_none()
    );

    // A web edit: the title and state change, everything else the client sent stays.
    let changes = TodoChanges {
        title: Some("Buy oat milk".into()),
        completed: Some(true),
        ..TodoChanges::default()
    };
    Todo::update(&mut conn, scope, todo.id, &changes, None).unwrap();
    let object = TodoObject::named(&mut conn, scope, "mine.ics")
        .unwrap()
        .unwrap();
    assert_eq!(object.etag(), "\"2\"");
    let ical = object.ical();
    for kept in [
        "UID:abc-123",
        "DESCRIPTION:From the corner shop",
        "DUE;VALUE=DATE:20261224",
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM",
        "SUMMARY:Buy oat milk",
        "STATUS:COMPLETED",
    ] {
        assert!(ical.contains(kept), "{kept}: {ical}");
    }

    // Deleting the todo deletes its object.
    Todo::delete(&mut conn, scope, todo.id, None).unwrap();
    assert!(
        TodoObject::named(&mut conn, scope, "mine.ics")
            .unwrap()
            .is_none()
    );
    assert!(
        TodoObject::with_uid(&mut conn, scope, "abc-123")
            .unwrap()
            .is_none()
    );
    assert_eq!(TodoObject::all(&mut conn, scope).unwrap().len(), 1);
}

on_both_engines!(a_todo_is_an_object_and_a_clients_object_is_kept);
