//! CalDAV objects over HTTP: `GET`, `PUT` and `DELETE` of `/dav/calendars/{username}/{list}/
//! {name}` with Basic and an API token, their ETags and preconditions, the mapping to the list's
//! todos, and refusals a client can act on.

use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, on_both_engines, spawn_app};

pub(crate) const SENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//client//EN\r\n\
    BEGIN:VTODO\r\nUID:abc-123\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Buy milk\r\n\
    DESCRIPTION:From the corner shop\r\nX-APPLE-SORT-ORDER:5\r\n\
    END:VTODO\r\nEND:VCALENDAR\r\n";

pub(crate) fn basic(username: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{secret}"))
    )
}

/// Alice's Basic credential and the path of her default list's collection.
pub(crate) async fn alice_on_dav(app: &TestApp) -> (String, String) {
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

pub(crate) async fn send(
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

const PROPFIND_ALL: &str =
    r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>"#;

async fn discovery_leads_from_dav_to_one_collection_per_list(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, _) = alice_on_dav(&app).await;
    let root = send(
        &app,
        "PROPFIND",
        "/dav/",
        &auth,
        &[("depth", "0")],
        PROPFIND_ALL,
    )
    .await;
    assert_eq!(root.status(), 207);
    let body = root.text().await.unwrap();
    assert!(
        body.contains("<D:current-user-principal><D:href>/dav/principals/alice/</D:href>"),
        "{body}"
    );
    let asked = r#"<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
        <prop><C:calendar-home-set/><displayname/><C:nope/></prop></propfind>"#;
    let principal = send(
        &app,
        "PROPFIND",
        "/dav/principals/alice/",
        &auth,
        &[],
        asked,
    )
    .await;
    assert_eq!(principal.status(), 207);
    let body = principal.text().await.unwrap();
    assert!(
        body.contains("<C:calendar-home-set><D:href>/dav/calendars/alice/</D:href>"),
        "{body}"
    );
    assert!(body.contains("<D:displayname>alice</D:displayname>"));
    assert!(
        body.contains("<C:nope/></D:prop><D:status>HTTP/1.1 404 Not Found"),
        "{body}"
    );
}

async fn the_home_has_a_collection_per_list_and_each_its_objects(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, collection) = alice_on_dav(&app).await;

    // The home lists her lists, each a VTODO collection; a list shared with her is there too.
    let bobs = app.client_for(&app.sign_up("bob", PASSWORD).await);
    let made = bobs
        .post(format!("{}/lists", app.address))
        .json(&json!({"title": "Bob's & co"}))
        .send()
        .await
        .unwrap();
    let made: Value = made.json().await.unwrap();
    let shared = bobs
        .put(format!(
            "{}/lists/{}/members/alice",
            app.address, made["id"]
        ))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(shared.status(), 201);
    let home = send(
        &app,
        "PROPFIND",
        "/dav/calendars/alice/",
        &auth,
        &[("depth", "1")],
        "",
    )
    .await;
    assert_eq!(home.status(), 207);
    let body = home.text().await.unwrap();
    assert!(
        body.contains(&format!("<D:href>{collection}</D:href>")),
        "{body}"
    );
    assert!(body.contains(&format!(
        "<D:href>/dav/calendars/alice/{}/</D:href>",
        made["id"]
    )));
    assert!(
        body.contains("<D:displayname>Bob&apos;s &amp; co</D:displayname>")
            || body.contains("<D:displayname>Bob's &amp; co</D:displayname>"),
        "{body}"
    );
    assert!(body.contains("<C:supported-calendar-component-set><C:comp name=\"VTODO\"/>"));
    assert!(body.contains("<CS:getctag>") && body.contains("<D:sync-token>urn:todomvc:sync:"));
    let viewer = body
        .split("<D:response>")
        .find(|part| part.contains(&format!("/alice/{}/", made["id"])))
        .unwrap();
    assert!(
        viewer.contains("<D:privilege><D:read/></D:privilege></D:current-user-privilege-set>"),
        "{viewer}"
    );
    assert!(
        !viewer.contains("<D:write/>"),
        "a viewer's collection is read-only"
    );
    assert_eq!(
        send(&app, "PROPFIND", "/dav/calendars/bob/", &auth, &[], "")
            .await
            .status(),
        404,
        "bob's home is not alice's"
    );

    // The collection, and its objects at Depth 1.
    let todo = app.create(json!({"title": "Walk the dog"})).await;
    let listed = send(&app, "PROPFIND", &collection, &auth, &[("depth", "1")], "").await;
    assert_eq!(listed.status(), 207);
    let body = listed.text().await.unwrap();
    assert!(
        body.contains(&format!(
            "<D:href>{collection}todomvc-{}.ics</D:href>",
            todo["id"]
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "<D:getetag>&quot;{}&quot;</D:getetag>",
            todo["version"]
        )),
        "{body}"
    );
}

async fn a_multiget_answers_each_href(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, collection) = alice_on_dav(&app).await;
    let put = send(
        &app,
        "PUT",
        &format!("{collection}mine.ics"),
        &auth,
        &[],
        SENT,
    )
    .await;
    assert_eq!(put.status(), 201);

    let multiget = format!(
        r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
           <D:prop><D:getetag/><C:calendar-data/></D:prop>
           <D:href>{collection}mine.ics</D:href><D:href>{collection}missing.ics</D:href>
           </C:calendar-multiget>"#
    );
    let got = send(
        &app,
        "REPORT",
        &collection,
        &auth,
        &[("depth", "1")],
        &multiget,
    )
    .await;
    assert_eq!(got.status(), 207);
    let body = got.text().await.unwrap();
    assert!(
        body.contains("UID:abc-123") && body.contains("SUMMARY:Buy milk"),
        "{body}"
    );
    assert!(body.contains(&format!(
        "<D:href>{collection}missing.ics</D:href><D:status>HTTP/1.1 404"
    )));
}

async fn a_query_keeps_what_task_clients_filter_for(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, collection) = alice_on_dav(&app).await;
    let put = send(
        &app,
        "PUT",
        &format!("{collection}mine.ics"),
        &auth,
        &[],
        SENT,
    )
    .await;
    assert_eq!(put.status(), 201);
    let done = app
        .create(json!({"title": "done one", "completed": true}))
        .await;
    let open_only = r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
        <D:prop><D:getetag/></D:prop>
        <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">
        <C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter>
        </C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;
    let body = send(
        &app,
        "REPORT",
        &collection,
        &auth,
        &[("depth", "1")],
        open_only,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(body.contains("mine.ics"), "{body}");
    assert!(
        !body.contains(&format!("todomvc-{}.ics", done["id"])),
        "{body}"
    );
    let events = open_only.replace("name=\"VTODO\"", "name=\"VEVENT\"");
    let body = send(&app, "REPORT", &collection, &auth, &[], &events)
        .await
        .text()
        .await
        .unwrap();
    assert!(!body.contains("<D:response>"), "no events here: {body}");
}

async fn a_sync_report_says_exactly_what_changed(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, collection) = alice_on_dav(&app).await;
    let put = send(
        &app,
        "PUT",
        &format!("{collection}mine.ics"),
        &auth,
        &[],
        SENT,
    )
    .await;
    assert_eq!(put.status(), 201);
    let done = app
        .create(json!({"title": "done one", "completed": true}))
        .await;

    // sync-collection: everything first, then exactly what changed, deletions by their names.
    let sync = |token: &str| {
        format!(
            r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token>
               <D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"#
        )
    };
    let first = send(&app, "REPORT", &collection, &auth, &[], &sync("")).await;
    assert_eq!(first.status(), 207);
    let body = first.text().await.unwrap();
    assert_eq!(body.matches("<D:response>").count(), 2, "{body}");
    let token = body
        .split("<D:sync-token>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let unchanged = send(&app, "REPORT", &collection, &auth, &[], &sync(&token))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(unchanged.matches("<D:response>").count(), 0, "{unchanged}");
    assert!(unchanged.contains(&format!("<D:sync-token>{token}</D:sync-token>")));

    let deleted = send(
        &app,
        "DELETE",
        &format!("{collection}mine.ics"),
        &auth,
        &[],
        "",
    )
    .await;
    assert_eq!(deleted.status(), 204);
    let patched = app
        .client
        .patch(app.url(&format!("/todos/{}", done["id"])))
        .json(&json!({"title": "done, renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let body = send(&app, "REPORT", &collection, &auth, &[], &sync(&token))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body.matches("<D:response>").count(), 2, "{body}");
    assert!(
        body.contains(&format!(
            "<D:href>{collection}mine.ics</D:href><D:status>HTTP/1.1 404"
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!("todomvc-{}.ics</D:href><D:propstat>", done["id"])),
        "{body}"
    );
    assert!(
        !body.contains(&format!("<D:sync-token>{token}</D:sync-token>")),
        "a new token"
    );

    for bad in [
        "urn:todomvc:sync:999999",
        "http://elsewhere/token",
        "urn:todomvc:sync:x",
    ] {
        let refused = send(&app, "REPORT", &collection, &auth, &[], &sync(bad)).await;
        assert_eq!(refused.status(), 403, "{bad}");
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("<D:valid-sync-token/>")
        );
    }
}

async fn lists_are_made_renamed_and_deleted_from_a_client(backend: Backend) {
    let app = spawn_app(backend).await;
    let (auth, collection) = alice_on_dav(&app).await;
    let path = "/dav/calendars/alice/4f1e-groceries/";
    let make = r#"<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
        <D:displayname>Groceries</D:displayname>
        <C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set>
        </D:prop></D:set></C:mkcalendar>"#;
    let made = send(&app, "MKCALENDAR", path, &auth, &[], make).await;
    assert_eq!(made.status(), 201);
    let lists = app.get_json("/lists").await;
    assert!(
        lists
            .as_array()
            .unwrap()
            .iter()
            .any(|list| list["title"] == "Groceries"),
        "{lists}"
    );
    let again = send(&app, "MKCALENDAR", path, &auth, &[], make).await;
    assert_eq!(again.status(), 405);
    let events = make.replace("name=\"VTODO\"", "name=\"VEVENT\"");
    let refused = send(
        &app,
        "MKCALENDAR",
        "/dav/calendars/alice/events/",
        &auth,
        &[],
        &events,
    )
    .await;
    assert_eq!(refused.status(), 403);
    let numeric = send(
        &app,
        "MKCALENDAR",
        "/dav/calendars/alice/12345/",
        &auth,
        &[],
        make,
    )
    .await;
    assert_eq!(numeric.status(), 403);

    // The home shows it at its name, and it holds objects like any list.
    let home = send(
        &app,
        "PROPFIND",
        "/dav/calendars/alice/",
        &auth,
        &[("depth", "1")],
        "",
    )
    .await;
    let body = home.text().await.unwrap();
    assert!(body.contains(&format!("<D:href>{path}</D:href>")), "{body}");
    let put = send(&app, "PUT", &format!("{path}milk.ics"), &auth, &[], SENT).await;
    assert_eq!(put.status(), 201);
    let got = send(&app, "GET", &format!("{path}milk.ics"), &auth, &[], "").await;
    assert_eq!(got.text().await.unwrap(), SENT);

    let rename = r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>
        <D:displayname>Shopping</D:displayname></D:prop></D:set></D:propertyupdate>"#;
    let renamed = send(&app, "PROPPATCH", path, &auth, &[], rename).await;
    assert_eq!(renamed.status(), 207);
    assert!(renamed.text().await.unwrap().contains("HTTP/1.1 200 OK"));
    let lists = app.get_json("/lists").await;
    assert!(
        lists
            .as_array()
            .unwrap()
            .iter()
            .any(|list| list["title"] == "Shopping"),
        "{lists}"
    );
    let color = r#"<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop>
        <D:displayname>Other</D:displayname><A:calendar-color>#ff0000</A:calendar-color></D:prop></D:set></D:propertyupdate>"#;
    let partly = send(&app, "PROPPATCH", path, &auth, &[], color).await;
    let body = partly.text().await.unwrap();
    assert!(
        body.contains("403 Forbidden") && body.contains("424 Failed Dependency"),
        "{body}"
    );
    let lists = app.get_json("/lists").await;
    assert!(
        lists
            .as_array()
            .unwrap()
            .iter()
            .any(|list| list["title"] == "Shopping"),
        "all or nothing"
    );

    let default_list = send(&app, "DELETE", &collection, &auth, &[], "").await;
    assert_eq!(default_list.status(), 403, "the default list stays");
    let deleted = send(&app, "DELETE", path, &auth, &[], "").await;
    assert_eq!(deleted.status(), 204);
    let lists = app.get_json("/lists").await;
    assert_eq!(lists.as_array().unwrap().len(), 1, "{lists}");
    assert_eq!(
        send(&app, "PROPFIND", path, &auth, &[], "").await.status(),
        404
    );
}

on_both_engines!(
    lists_are_made_renamed_and_deleted_from_a_client,
    discovery_leads_from_dav_to_one_collection_per_list,
    the_home_has_a_collection_per_list_and_each_its_objects,
    a_multiget_answers_each_href,
    a_query_keeps_what_task_clients_filter_for,
    a_sync_report_says_exactly_what_changed,
    an_object_is_put_read_changed_and_deleted,
    a_todo_made_on_the_web_is_an_object_too,
    bad_objects_and_callers_are_refused_and_nothing_is_stored,
    a_viewer_reads_but_cannot_write,
);
