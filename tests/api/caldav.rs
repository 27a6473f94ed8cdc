//! CalDAV objects over HTTP: `GET`, `PUT` and `DELETE` of `/dav/calendars/{username}/{list}/
//! {name}` with Basic and an API token, their ETags and preconditions, the mapping to the list's
//! todos, and refusals a client can act on.

use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, on_both_engines, spawn_app};

const SENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//client//EN\r\n\
    BEGIN:VTODO\r\nUID:abc-123\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Buy milk\r\n\
    DESCRIPTION:From the corner shop\r\nX-APPLE-SORT-ORDER:5\r\n\
    END:VTODO\r\nEND:VCALENDAR\r\n";

fn basic(username: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{secret}"))
    )
}

/// Alice's Basic credential and the path of her default list's collection.
async fn alice_on_dav(app: &TestApp) -> (String, String) {
    let alice = app.user.as_ref().expect("alice");
    let token = app.create_token(alice, "phone").await;
    let lists = app.get_json("/lists").await;
    let list = lists
        .as_array()
        .unwrap()
        .iter()
        .find(|list| list["role"] == "owner")
        .expect("her default list");
    (
        basic("alice", &token),
        format!("/dav/calendars/alice/{}/", list["id"]),
    )
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    auth: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> reqwest::Response {
    let mut request = app
        .anonymous
        .request(method.parse().unwrap(), format!("{}{path}", app.address))
        .header("authorization", auth)
        .header("content-type", "text/calendar; charset=utf-8")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

async fn an_object_is_put_read_changed_and_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, collection) = alice_on_dav(&app).await;
    let object = format!("{collection}mine.ics");

    let created = send(&app, "PUT", &object, &auth, &[("if-none-match", "*")], SENT).await;
    assert_eq!(created.status(), 201);
    let first = etag(&created);
    let got = send(&app, "GET", &object, &auth, &[], "").await;
    assert_eq!(got.status(), 200);
    assert_eq!(
        got.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    assert_eq!(etag(&got), first, "the ETag the PUT answered");
    assert_eq!(got.text().await.unwrap(), SENT, "as the client sent it");
    let list = app.get_json("/todos/").await;
    assert_eq!(
        (list[0]["title"].clone(), list[0]["order"].clone()),
        (json!("Buy milk"), json!(5))
    );

    // Preconditions.
    let again = send(&app, "PUT", &object, &auth, &[("if-none-match", "*")], SENT).await;
    assert_eq!(again.status(), 412);
    let stale = send(&app, "PUT", &object, &auth, &[("if-match", "\"99\"")], SENT).await;
    assert_eq!(stale.status(), 412);
    let done = SENT.replace("SUMMARY:Buy milk", "SUMMARY:Buy milk\r\nSTATUS:COMPLETED");
    let changed = send(&app, "PUT", &object, &auth, &[("if-match", &first)], &done).await;
    assert_eq!(changed.status(), 204);
    assert_ne!(etag(&changed), first);
    assert_eq!(app.get_json("/todos/").await[0]["completed"], json!(true));

    // A web edit: the object follows, with what the client sent kept.
    let id = app.get_json("/todos/").await[0]["id"].clone();
    let patched = app
        .client
        .patch(app.url(&format!("/todos/{id}")))
        .json(&json!({"title": "Buy oat milk"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let got = send(&app, "GET", &object, &auth, &[], "").await;
    let web_etag = etag(&got);
    assert_ne!(web_etag, etag(&changed), "a web edit changes the ETag");
    let text = got.text().await.unwrap();
    for kept in [
        "UID:abc-123",
        "DESCRIPTION:From the corner shop",
        "SUMMARY:Buy oat milk",
        "STATUS:COMPLETED",
    ] {
        assert!(text.contains(kept), "{kept}: {text}");
    }

    let stale = send(&app, "DELETE", &object, &auth, &[("if-match", "\"1\"")], "").await;
    assert_eq!(stale.status(), 412);
    let deleted = send(
        &app,
        "DELETE",
        &object,
        &auth,
        &[("if-match", &web_etag)],
        "",
    )
    .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        send(&app, "GET", &object, &auth, &[], "").await.status(),
        404
    );
    assert_eq!(app.get_json("/todos/").await, json!([]));
}

async fn a_todo_made_on_the_web_is_an_object_too(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, collection) = alice_on_dav(&app).await;
    let todo = app.create(json!({"title": "Walk the dog"})).await;
    let object = format!("{collection}todomvc-{}.ics", todo["id"]);
    let got = send(&app, "GET", &object, &auth, &[], "").await;
    assert_eq!(got.status(), 200);
    assert_eq!(etag(&got), format!("\"{}\"", todo["version"]));
    let text = got.text().await.unwrap();
    assert!(
        text.contains(&format!("UID:todomvc-{}\r\n", todo["id"])),
        "{text}"
    );
    assert!(text.contains("SUMMARY:Walk the dog\r\n"));
    assert!(text.contains("STATUS:NEEDS-ACTION\r\n"));
}

async fn bad_objects_and_callers_are_refused_and_nothing_is_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, collection) = alice_on_dav(&app).await;
    let object = format!("{collection}bad.ics");
    let event =
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:e\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let untitled = SENT.replace("SUMMARY:Buy milk\r\n", "");
    let long = SENT.replace("Buy milk", &"x".repeat(1001));
    for (body, status, element) in [
        ("not iCalendar", 400, None),
        (event, 403, Some("supported-calendar-component")),
        (untitled.as_str(), 403, Some("valid-calendar-data")),
        (long.as_str(), 403, Some("valid-calendar-data")),
    ] {
        let response = send(&app, "PUT", &object, &auth, &[], body).await;
        assert_eq!(response.status(), status, "{body}");
        let text = response.text().await.unwrap();
        if let Some(element) = element {
            assert!(text.contains(&format!("<C:{element}/>")), "{text}");
        }
    }
    assert!(app.rows().is_empty(), "nothing stored");

    let none = app
        .anonymous
        .get(format!("{}{object}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(
        none.headers()["www-authenticate"],
        "Basic realm=\"todomvc\""
    );
    let password = send(&app, "GET", &object, &basic("alice", PASSWORD), &[], "").await;
    assert_eq!(
        password.status(),
        401,
        "the account's password is not accepted"
    );

    // Someone else's calendars, and a UID another object has.
    let bobs = collection.replace("/alice/", "/bob/");
    assert_eq!(
        send(&app, "GET", &format!("{bobs}x.ics"), &auth, &[], "")
            .await
            .status(),
        404
    );
    let first = send(
        &app,
        "PUT",
        &format!("{collection}one.ics"),
        &auth,
        &[],
        SENT,
    )
    .await;
    assert_eq!(first.status(), 201);
    let clash = send(
        &app,
        "PUT",
        &format!("{collection}two.ics"),
        &auth,
        &[],
        SENT,
    )
    .await;
    assert_eq!(clash.status(), 403);
    assert!(clash.text().await.unwrap().contains("<C:no-uid-conflict/>"));
    assert_eq!(app.rows().len(), 1);

    let options = send(&app, "OPTIONS", &object, &auth, &[], "").await;
    assert_eq!(options.headers()["dav"], "1, 3, calendar-access");
    let well_known = app
        .anonymous
        .get(format!("{}/.well-known/caldav", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(well_known.status(), 301);
    assert_eq!(well_known.headers()["location"], "/dav/");
}

async fn a_viewer_reads_but_cannot_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice_auth, collection) = alice_on_dav(&app).await;
    let created = send(
        &app,
        "PUT",
        &format!("{collection}mine.ics"),
        &alice_auth,
        &[],
        SENT,
    )
    .await;
    assert_eq!(created.status(), 201);
    let list_id = collection
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let vera = app.sign_up("vera", PASSWORD).await;
    let shared = app
        .client
        .put(app.url(&format!("/lists/{list_id}/members/vera")))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(shared.status(), 201);
    let token = app.create_token(&vera, "tablet").await;
    let vera_auth = basic("vera", &token);
    let hers = format!("/dav/calendars/vera/{list_id}/mine.ics");
    assert_eq!(
        send(&app, "GET", &hers, &vera_auth, &[], "").await.status(),
        200
    );
    let put = send(&app, "PUT", &hers, &vera_auth, &[], SENT).await;
    assert_eq!(put.status(), 403);
    let delete = send(&app, "DELETE", &hers, &vera_auth, &[], "").await;
    assert_eq!(delete.status(), 403);
    assert_eq!(app.rows().len(), 1);
    let _: Value = app.get_json("/todos/").await;
}

on_both_engines!(
    an_object_is_put_read_changed_and_deleted,
    a_todo_made_on_the_web_is_an_object_too,
    bad_objects_and_callers_are_refused_and_nothing_is_stored,
    a_viewer_reads_but_cannot_write,
);
