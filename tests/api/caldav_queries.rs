//! `calendar-query` over HTTP: filters on any property (`is-not-defined`, `text-match` with its
//! collations, parameters), time ranges on tasks, refusals of filters that cannot be read, and
//! the hrefs of a collection a client made, under the name it made it at.

use serde_json::json;

use crate::caldav::{SENT, alice_on_dav, send};
use crate::helpers::{Backend, TestApp, on_both_engines, spawn_app};

fn task(uid: &str, lines: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//client//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nSUMMARY:Task {uid}\r\n{lines}END:VTODO\r\nEND:VCALENDAR\r\n"
    )
}

fn query(todo_filters: &str) -> String {
    format!(
        r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
        <D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR">
        <C:comp-filter name="VTODO">{todo_filters}</C:comp-filter></C:comp-filter></C:filter>
        </C:calendar-query>"#
    )
}

/// The object names a query answers, sorted.
async fn found(app: &TestApp, (auth, collection): (&str, &str), filters: &str) -> Vec<String> {
    let answer = send(
        app,
        "REPORT",
        collection,
        auth,
        &[("depth", "1")],
        &query(filters),
    )
    .await;
    assert_eq!(answer.status(), 207);
    let body = answer.text().await.unwrap();
    let mut names: Vec<String> = body
        .split("<D:href>")
        .skip(1)
        .filter_map(|rest| rest.split("</D:href>").next())
        .filter_map(|href| href.rsplit('/').next())
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

async fn a_query_filters_on_any_property_and_on_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, collection) = alice_on_dav(&app).await;
    let at = (auth.as_str(), collection.as_str());
    let objects = [
        (
            "errand",
            "CATEGORIES:home,Errands\r\nDUE:20270115T120000Z\r\n",
        ),
        (
            "secret",
            "CLASS:CONFIDENTIAL\r\nDTSTART:20270310T090000Z\r\n",
        ),
        (
            "subtask",
            "RELATED-TO;RELTYPE=PARENT:errand\r\nDTSTART:20270320T090000Z\r\n",
        ),
    ];
    for (uid, lines) in objects {
        let put = send(
            &app,
            "PUT",
            &format!("{collection}{uid}.ics"),
            &auth,
            &[],
            &task(uid, lines),
        )
        .await;
        assert_eq!(put.status(), 201, "{uid}");
    }

    let errands =
        r#"<C:prop-filter name="CATEGORIES"><C:text-match>ERRANDS</C:text-match></C:prop-filter>"#;
    assert_eq!(found(&app, at, errands).await, ["errand.ics"]);
    let octet = errands.replace("<C:text-match>", r#"<C:text-match collation="i;octet">"#);
    assert_eq!(found(&app, at, &octet).await, Vec::<String>::new());
    let not_errands = errands.replace("<C:text-match>", r#"<C:text-match negate-condition="yes">"#);
    assert_eq!(
        found(&app, at, &not_errands).await,
        Vec::<String>::new(),
        "only one has CATEGORIES"
    );
    let uncategorised = r#"<C:prop-filter name="CATEGORIES"><C:is-not-defined/></C:prop-filter>"#;
    assert_eq!(
        found(&app, at, uncategorised).await,
        ["secret.ics", "subtask.ics"]
    );
    let children = r#"<C:prop-filter name="RELATED-TO"><C:param-filter name="RELTYPE">
        <C:text-match>PARENT</C:text-match></C:param-filter></C:prop-filter>"#;
    assert_eq!(found(&app, at, children).await, ["subtask.ics"]);
    let january = r#"<C:time-range start="20270101T000000Z" end="20270201T000000Z"/>"#;
    assert_eq!(found(&app, at, january).await, ["errand.ics"]);
    let march_on = r#"<C:time-range start="20270301T000000Z"/>"#;
    assert_eq!(
        found(&app, at, march_on).await,
        ["secret.ics", "subtask.ics"]
    );

    // A web edit is what the next query sees: the todo's title is its SUMMARY.
    let todos = app.get_json("/todos/").await;
    let secret = todos
        .as_array()
        .unwrap()
        .iter()
        .find(|todo| todo["title"] == "Task secret")
        .unwrap();
    let renamed = app
        .client
        .patch(app.url(&format!("/todos/{}", secret["id"])))
        .json(&json!({"title": "Renamed on the web", "completed": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let summary =
        r#"<C:prop-filter name="SUMMARY"><C:text-match>renamed</C:text-match></C:prop-filter>"#;
    assert_eq!(found(&app, at, summary).await, ["secret.ics"]);
    let open = r#"<C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter>"#;
    assert_eq!(found(&app, at, open).await, ["errand.ics", "subtask.ics"]);
}

async fn filters_that_cannot_be_read_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, collection) = alice_on_dav(&app).await;
    let refusals = [
        (r#"<C:time-range start="tomorrow"/>"#, "valid-filter"),
        (r#"<C:time-range/>"#, "valid-filter"),
        (
            r#"<C:prop-filter name="SUMMARY"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter>"#,
            "supported-collation",
        ),
        (
            r#"<C:prop-filter><C:is-not-defined/></C:prop-filter>"#,
            "valid-filter",
        ),
    ];
    let not_vcalendar = query("").replace(
        r#"<C:comp-filter name="VCALENDAR">"#,
        r#"<C:comp-filter name="VTODO">"#,
    );
    let bodies = refusals
        .iter()
        .map(|(filters, precondition)| (query(filters), *precondition))
        .chain([(not_vcalendar, "valid-filter")]);
    for (body, precondition) in bodies {
        let answer = send(&app, "REPORT", &collection, &auth, &[("depth", "1")], &body).await;
        assert_eq!(answer.status(), 403, "{body}");
        let answer = answer.text().await.unwrap();
        assert!(answer.contains(&format!(":{precondition}")), "{answer}");
    }
}

async fn a_collection_a_client_made_answers_under_its_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, _) = alice_on_dav(&app).await;
    let path = "/dav/calendars/alice/errands%20list/";
    let make = r#"<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
        <D:displayname>Errands</D:displayname></D:prop></D:set></C:mkcalendar>"#;
    assert_eq!(
        send(&app, "MKCALENDAR", path, &auth, &[], make)
            .await
            .status(),
        201
    );
    let put = send(&app, "PUT", &format!("{path}milk.ics"), &auth, &[], SENT).await;
    assert_eq!(put.status(), 201);
    for (method, body) in [
        ("REPORT", query("")),
        ("PROPFIND", String::new()),
        (
            "REPORT",
            r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level>
            <D:prop><D:getetag/></D:prop></D:sync-collection>"#
                .to_owned(),
        ),
    ] {
        let answer = send(&app, method, path, &auth, &[("depth", "1")], &body).await;
        assert_eq!(answer.status(), 207);
        let body = answer.text().await.unwrap();
        assert!(
            body.contains(&format!("<D:href>{path}milk.ics</D:href>")),
            "{method}: {body}"
        );
    }
}

async fn a_list_is_changed_only_through_its_owners_home(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, collection) = alice_on_dav(&app).await;
    let elsewhere = collection.replace("/alice/", "/bob/");
    let make = r#"<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"/>"#;
    let rename = r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>
        <D:displayname>Renamed</D:displayname></D:prop></D:set></D:propertyupdate>"#;
    let attempts = [
        ("MKCALENDAR", "/dav/calendars/bob/new/".to_owned(), make),
        ("PROPPATCH", elsewhere.clone(), rename),
        ("DELETE", elsewhere.clone(), ""),
        ("PUT", format!("{elsewhere}milk.ics"), SENT),
    ];
    for (method, path, body) in attempts {
        let answer = send(&app, method, &path, &auth, &[], body).await;
        assert_eq!(answer.status(), 404, "{method} {path}");
    }
    let lists = app.get_json("/lists").await;
    assert_eq!(lists.as_array().map(Vec::len), Some(1), "{lists}");
    assert_eq!(lists[0]["title"], "Todos");
    assert_eq!(app.get_json("/todos/").await, json!([]));
}

on_both_engines!(
    a_list_is_changed_only_through_its_owners_home,
    a_query_filters_on_any_property_and_on_time,
    filters_that_cannot_be_read_are_refused,
    a_collection_a_client_made_answers_under_its_name,
);
