//! Lists and sharing: `/lists`, members and roles, what losing access does, and the migration that
//! brought lists. (The `/todos` suite runs again as an editor: see `todos_suite!`.)

use std::time::Duration;

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::events::EventStream;
use crate::helpers::{
    Backend, Name, PASSWORD, TestApp, TestDatabase, on_both_engines, spawn_app, spawn_app_with,
};
use crate::operators::{stdout, todomvc};

/// An owner's shared list with an editor, a viewer and an outsider, each with their own client.
pub struct Crew {
    pub app: TestApp,
    pub alice: Client,
    pub bob: Client,
    pub carol: Client,
    pub dave: Client,
    pub list: i64,
}

/// Requests as one caller: each answers its status and JSON body (`null` when empty).
#[derive(Clone, Copy)]
struct As<'a> {
    app: &'a TestApp,
    client: &'a Client,
}

impl As<'_> {
    async fn call(self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        send(self.client, self.app, method, path, body).await
    }
    async fn get(self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }
    async fn post(self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }
    async fn patch(self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }
    async fn delete(self, path: &str) -> u16 {
        self.call(Method::DELETE, path, None).await.0
    }
}

async fn send(
    client: &Client,
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client.request(method, app.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"))
    };
    (status, json)
}

async fn new_list(app: &TestApp, client: &Client, title: &str) -> i64 {
    let (status, body) = send(
        client,
        app,
        Method::POST,
        "/lists",
        Some(json!({"title": title})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().expect("an id")
}

async fn share(app: &TestApp, owner: &Client, list: i64, username: &str, role: &str) -> u16 {
    send(
        owner,
        app,
        Method::PUT,
        &format!("/lists/{list}/members/{username}"),
        Some(json!({"role": role})),
    )
    .await
    .0
}

pub async fn crew(backend: Backend) -> Crew {
    let app = spawn_app(backend).await;
    let alice = app.client_for(app.user.as_ref().expect("alice"));
    let bob = app.client_for(&app.sign_up("bob", PASSWORD).await);
    let carol = app.client_for(&app.sign_up("carol", PASSWORD).await);
    let dave = app.client_for(&app.sign_up("dave", PASSWORD).await);
    let list = new_list(&app, &alice, "Groceries").await;
    assert_eq!(share(&app, &alice, list, "bob", "editor").await, 201);
    assert_eq!(share(&app, &alice, list, "carol", "viewer").await, 201);
    Crew {
        app,
        alice,
        bob,
        carol,
        dave,
        list,
    }
}

/// The titles of a list's todos, from the database.
pub fn titles(app: &TestApp, list: i64) -> Vec<String> {
    app.database
        .load::<Name>(&format!(
            "SELECT title AS name FROM todos WHERE list_id = {list} ORDER BY id"
        ))
        .into_iter()
        .map(|row| row.name)
        .collect()
}

/// Everything a refusal must leave as it was: every list, member and todo.
pub fn snapshot(app: &TestApp) -> Vec<String> {
    app.database
        .load::<Name>(
            "SELECT 'list ' || id || ' ' || title || ' ' || COALESCE(owner_id, 0) AS name FROM lists \
             UNION ALL SELECT 'member ' || list_id || ' ' || user_id || ' ' || role FROM memberships \
             UNION ALL SELECT 'todo ' || id || ' ' || list_id || ' ' || title || ' ' || completed \
             FROM todos ORDER BY name",
        )
        .into_iter()
        .map(|row| row.name)
        .collect()
}

async fn a_list_is_created_and_listed(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = As {
        app: &app,
        client: &app.client,
    };
    let (status, lists) = alice.get("/lists").await;
    assert_eq!(status, 200);
    let default = lists[0]["id"].as_i64().unwrap();
    let url = app.url(&format!("/lists/{default}"));
    assert_eq!(
        lists,
        json!([{"id": default, "title": "Todos", "role": "owner", "owner": "alice",
                "url": url, "todos_url": format!("{url}/todos/")}])
    );

    let response = app
        .client
        .post(app.url("/lists"))
        .json(&json!({"title": "  Groceries  "}));
    let response = response.send().await.unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let list: Value = response.json().await.unwrap();
    let id = list["id"].as_i64().unwrap();
    assert_eq!(
        (&list["title"], &list["role"]),
        (&json!("Groceries"), &json!("owner"))
    );
    assert_eq!(location, app.url(&format!("/lists/{id}")));
    assert_eq!(list["url"], location);
    assert_eq!(alice.get(&format!("/lists/{id}")).await, (200, list));

    // Its todos answer as /todos/ does, and /todos/ is still the default list.
    let (status, todo) = alice
        .post(&format!("/lists/{id}/todos/"), json!({"title": "milk"}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        todo["url"],
        app.url(&format!("/lists/{id}/todos/{}", todo["id"]))
    );
    assert_eq!(titles(&app, id), ["milk"]);
    assert_eq!(app.list().await, vec![]);
    assert_eq!(titles(&app, default), Vec::<String>::new());

    let (_, lists) = alice.get("/lists").await;
    let listed: Vec<&Value> = lists
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["title"])
        .collect();
    assert_eq!(
        listed,
        ["Todos", "Groceries"],
        "the default list first, then by creation"
    );
}

async fn a_list_is_renamed_and_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = As {
        app: &app,
        client: &app.client,
    };
    let default = alice.get("/lists").await.1[0]["id"].as_i64().unwrap();
    let id = new_list(&app, &app.client, "Groceries").await;
    alice
        .post(&format!("/lists/{id}/todos/"), json!({"title": "milk"}))
        .await;

    let (status, renamed) = alice
        .patch(&format!("/lists/{id}"), json!({"title": "Shopping"}))
        .await;
    assert_eq!((status, &renamed["title"]), (200, &json!("Shopping")));
    assert_eq!(
        alice.get(&format!("/lists/{id}")).await.1["title"],
        "Shopping"
    );
    let (status, answer) = alice
        .patch(&format!("/lists/{id}"), json!({"title": ""}))
        .await;
    assert_eq!((status, &answer["field"]), (422, &json!("title")));

    let (status, body) = alice
        .call(Method::DELETE, &format!("/lists/{default}"), None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("default list"),
        "{body}"
    );

    assert_eq!(alice.delete(&format!("/lists/{id}")).await, 204);
    assert_eq!(
        titles(&app, id),
        Vec::<String>::new(),
        "its todos went with it"
    );
    assert_eq!(alice.get(&format!("/lists/{id}")).await.0, 404);
    assert_eq!(alice.get(&format!("/lists/{id}/todos/")).await.0, 404);
    assert_eq!(alice.delete(&format!("/lists/{id}")).await, 404);
}

async fn titles_are_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = snapshot(&app);
    for body in [
        json!({}),
        json!({"title": ""}),
        json!({"title": "   "}),
        json!({"title": 7}),
        json!({"title": "x".repeat(101)}),
    ] {
        let (status, answer) = send(
            &app.client,
            &app,
            Method::POST,
            "/lists",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(answer["field"], "title", "{body}");
    }
    let (status, _) = send(
        &app.client,
        &app,
        Method::POST,
        "/lists",
        Some(json!({"title": "é".repeat(100)})),
    )
    .await;
    assert_eq!(status, 201, "100 characters, not bytes");
    let response = app
        .client
        .post(app.url("/lists"))
        .body("title=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415, "neither JSON nor a form");
    let after = snapshot(&app);
    assert_eq!(after.len(), before.len() + 1);
}

/// Every list route for each kind of caller: the status, and nothing changed by a refusal.
/// (method, path, body, statuses for owner, editor, viewer, outsider, signed out)
type RouteCase = (Method, String, Option<Value>, [u16; 5]);

fn list_routes(list: i64, todo: i64) -> Vec<RouteCase> {
    let (l, t) = (format!("/lists/{list}"), format!("/lists/{list}/todos/"));
    let read = [200, 200, 200, 404, 401];
    let write = |ok| [ok, ok, 403, 404, 401];
    let own = |ok| [ok, 403, 403, 404, 401];
    vec![
        (Method::GET, l.clone(), None, read),
        (Method::GET, format!("{l}/members"), None, read),
        (Method::GET, t.clone(), None, read),
        (Method::GET, format!("{t}{todo}"), None, read),
        (
            Method::POST,
            t.clone(),
            Some(json!({"title": "new"})),
            write(201),
        ),
        (
            Method::PATCH,
            format!("{t}{todo}"),
            Some(json!({"completed": true})),
            write(200),
        ),
        (
            Method::PUT,
            format!("{t}{todo}"),
            Some(json!({"title": "oat milk"})),
            write(200),
        ),
        (
            Method::PUT,
            format!("{l}/members/erin"),
            Some(json!({"role": "viewer"})),
            own(201),
        ),
        (Method::DELETE, format!("{l}/members/erin"), None, own(204)),
        (
            Method::PATCH,
            l.clone(),
            Some(json!({"title": "Food"})),
            own(200),
        ),
        // The editor deletes it; the owner then finds it gone.
        (
            Method::DELETE,
            format!("{t}{todo}"),
            None,
            [404, 204, 403, 404, 401],
        ),
        (
            Method::DELETE,
            format!("{t}?completed=true"),
            None,
            write(204),
        ),
        (Method::DELETE, t.clone(), None, write(204)),
        (Method::DELETE, l, None, own(204)),
    ]
}

/// Every list route for each kind of caller: the status, and nothing changed by a refusal.
async fn every_route_for_every_role(backend: Backend) {
    let crew = crew(backend).await;
    let app = &crew.app;
    app.sign_up("erin", PASSWORD).await;
    let alice = As {
        app,
        client: &crew.alice,
    };
    let (_, todo) = alice
        .post(
            &format!("/lists/{}/todos/", crew.list),
            json!({"title": "milk"}),
        )
        .await;
    let signed_out = app.anonymous.clone();
    let callers = [
        ("owner", &crew.alice),
        ("editor", &crew.bob),
        ("viewer", &crew.carol),
        ("outsider", &crew.dave),
        ("signed out", &signed_out),
    ];
    for (method, path, body, statuses) in list_routes(crew.list, todo["id"].as_i64().unwrap()) {
        // Refusals first, so that each refused request meets the state the owner's would.
        for (index, (who, client)) in callers.iter().enumerate().rev() {
            let before = snapshot(app);
            let (status, answer) = As { app, client }
                .call(method.clone(), &path, body.clone())
                .await;
            assert_eq!(status, statuses[index], "{who}: {method} {path}: {answer}");
            if status >= 400 {
                assert!(
                    answer["error"].is_string(),
                    "{who}: {method} {path}: {answer}"
                );
                assert_eq!(
                    snapshot(app),
                    before,
                    "{who}: {method} {path} changed something"
                );
            }
        }
    }
    assert_eq!(titles(app, crew.list), Vec::<String>::new());
}

async fn members(caller: As<'_>, list: i64) -> Value {
    caller.get(&format!("/lists/{list}/members")).await.1
}

async fn members_are_added_and_changed(backend: Backend) {
    let crew = crew(backend).await;
    let (app, list) = (&crew.app, crew.list);
    let expected = json!([
        {"username": "alice", "role": "owner"},
        {"username": "bob", "role": "editor"},
        {"username": "carol", "role": "viewer"},
    ]);
    let carol = As {
        app,
        client: &crew.carol,
    };
    assert_eq!(
        members(carol, list).await,
        expected,
        "any member sees who is on it"
    );

    // Already a member: 200, with the role changed (or the same).
    assert_eq!(share(app, &crew.alice, list, "carol", "editor").await, 200);
    assert_eq!(share(app, &crew.alice, list, "carol", "editor").await, 200);
    assert_eq!(
        members(carol, list).await[2],
        json!({"username": "carol", "role": "editor"})
    );
    // Usernames are matched as at sign-in (case-insensitive).
    assert_eq!(share(app, &crew.alice, list, "DAVE", "viewer").await, 201);

    let before = snapshot(app);
    assert_eq!(share(app, &crew.alice, list, "nobody", "viewer").await, 404);
    assert_eq!(share(app, &crew.alice, list, "bob", "owner").await, 422);
    assert_eq!(share(app, &crew.alice, list, "bob", "admin").await, 422);
    assert_eq!(
        share(app, &crew.alice, list, "alice", "editor").await,
        422,
        "the owner has no role"
    );
    let alice = As {
        app,
        client: &crew.alice,
    };
    let (status, body) = alice
        .call(
            Method::PUT,
            &format!("/lists/{list}/members/bob"),
            Some(json!({})),
        )
        .await;
    assert_eq!((status, &body["field"]), (422, &json!("role")));
    assert_eq!(snapshot(app), before);

    // The lists each sees.
    let (_, lists) = As {
        app,
        client: &crew.dave,
    }
    .get("/lists")
    .await;
    let seen: Vec<Value> = lists
        .as_array()
        .unwrap()
        .iter()
        .map(|l| json!([l["title"], l["role"], l["owner"]]))
        .collect();
    assert_eq!(
        seen,
        [
            json!(["Todos", "owner", "dave"]),
            json!(["Groceries", "viewer", "alice"])
        ]
    );
}

async fn members_leave_and_are_removed(backend: Backend) {
    let crew = crew(backend).await;
    let (app, list) = (&crew.app, crew.list);
    let (alice, bob) = (
        As {
            app,
            client: &crew.alice,
        },
        As {
            app,
            client: &crew.bob,
        },
    );
    let path = |name: &str| format!("/lists/{list}/members/{name}");
    // A member leaves; they cannot remove others; the owner cannot leave.
    assert_eq!(bob.delete(&path("carol")).await, 403);
    assert_eq!(bob.delete(&path("bob")).await, 204);
    assert_eq!(bob.get(&format!("/lists/{list}")).await.0, 404);
    assert_eq!(alice.delete(&path("alice")).await, 422);
    assert_eq!(alice.delete(&path("bob")).await, 404, "no longer on it");
    assert_eq!(alice.delete(&path("nobody")).await, 404);
    assert_eq!(alice.delete(&path("carol")).await, 204);
    assert_eq!(
        members(alice, list).await,
        json!([{"username": "alice", "role": "owner"}])
    );
}

async fn losing_access_ends_streams_and_refuses_at_once(backend: Backend) {
    let crew = crew(backend).await;
    let (app, list) = (&crew.app, crew.list);
    let events = app.url(&format!("/lists/{list}/events"));
    let mut bobs = EventStream::open_at(&crew.bob, &events, None).await;
    let mut carols = EventStream::open_at(&crew.carol, &events, None).await;
    assert_eq!(bobs.next().await.name, "reset");
    assert_eq!(carols.next().await.name, "reset");

    // A change by the owner reaches both.
    send(
        &crew.alice,
        app,
        Method::POST,
        &format!("/lists/{list}/todos/"),
        Some(json!({"title": "eggs"})),
    )
    .await;
    assert_eq!(bobs.next().await.data["title"], "eggs");
    assert_eq!(carols.next().await.data["title"], "eggs");

    // Bob is made a viewer: his stream ends; his writes are 403 from now on.
    assert_eq!(share(app, &crew.alice, list, "bob", "viewer").await, 200);
    assert!(
        bobs.ends_within(Duration::from_secs(1)).await,
        "a downgraded member's stream ends"
    );
    assert_eq!(
        send(
            &crew.bob,
            app,
            Method::POST,
            &format!("/lists/{list}/todos/"),
            Some(json!({"title": "x"}))
        )
        .await
        .0,
        403
    );
    // Carol is removed: her stream ends, and the list is gone for her.
    assert_eq!(
        send(
            &crew.alice,
            app,
            Method::DELETE,
            &format!("/lists/{list}/members/carol"),
            None
        )
        .await
        .0,
        204
    );
    assert!(
        carols.ends_within(Duration::from_secs(1)).await,
        "a removed member's stream ends"
    );
    assert_eq!(
        send(
            &crew.carol,
            app,
            Method::GET,
            &format!("/lists/{list}/todos/"),
            None
        )
        .await
        .0,
        404
    );

    // The list is deleted: the last member's stream ends too.
    let mut bobs = EventStream::open_at(&crew.bob, &events, None).await;
    assert_eq!(bobs.next().await.name, "reset");
    assert_eq!(
        send(
            &crew.alice,
            app,
            Method::DELETE,
            &format!("/lists/{list}"),
            None
        )
        .await
        .0,
        204
    );
    assert!(
        bobs.ends_within(Duration::from_secs(1)).await,
        "a deleted list's streams end"
    );
    assert_eq!(titles(app, list), Vec::<String>::new());
}

async fn post_keyed(
    client: &Client,
    app: &TestApp,
    path: &str,
    key: &str,
    title: &str,
) -> reqwest::Response {
    client
        .post(app.url(path))
        .header("idempotency-key", key)
        .json(&json!({"title": title}))
        .send()
        .await
        .unwrap()
}

/// A write queued offline that comes back refused (access lost) gets the same refusal whenever it
/// is sent again, and is never done.
async fn a_refusal_is_kept_under_its_key(backend: Backend) {
    let crew = crew(backend).await;
    let (app, list) = (&crew.app, crew.list);
    let todos = format!("/lists/{list}/todos/");
    assert_eq!(
        post_keyed(&crew.bob, app, &todos, "k-1", "bread")
            .await
            .status(),
        201
    );

    // Bob loses write access: the viewer's refusal is kept.
    assert_eq!(share(app, &crew.alice, list, "bob", "viewer").await, 200);
    let first = post_keyed(&crew.bob, app, &todos, "k-2", "butter").await;
    assert_eq!(first.status(), 403);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let message = first.json::<Value>().await.unwrap()["error"].clone();
    assert!(message.as_str().unwrap().contains("Groceries"), "{message}");
    // Made an editor again, the same request under the same key is still the refusal it got.
    assert_eq!(share(app, &crew.alice, list, "bob", "editor").await, 200);
    let again = post_keyed(&crew.bob, app, &todos, "k-2", "butter").await;
    assert_eq!(again.status(), 403);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["error"], message);

    // Removed: 404, kept too.
    assert_eq!(
        send(
            &crew.alice,
            app,
            Method::DELETE,
            &format!("/lists/{list}/members/bob"),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        post_keyed(&crew.bob, app, &todos, "k-3", "jam")
            .await
            .status(),
        404
    );
    let again = post_keyed(&crew.bob, app, &todos, "k-3", "jam").await;
    assert_eq!(again.status(), 404);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(titles(app, list), ["bread"], "nothing refused was written");

    // Two members' keys are their own, even on one list.
    assert_eq!(
        post_keyed(&crew.alice, app, &todos, "k-1", "alice's")
            .await
            .status(),
        201
    );
    assert_eq!(titles(app, list), ["bread", "alice's"]);
}

async fn the_page_of_a_list_is_served_to_browsers(backend: Backend) {
    let crew = crew(backend).await;
    let (app, list) = (&crew.app, crew.list);
    send(
        &crew.alice,
        app,
        Method::POST,
        &format!("/lists/{list}/todos/"),
        Some(json!({"title": "tea"})),
    )
    .await;
    for client in [&crew.alice, &crew.bob, &crew.carol] {
        let page = client
            .get(app.url(&format!("/lists/{list}")))
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
        assert!(page.text().await.unwrap().contains("<label>tea</label>"));
    }
    let page = crew
        .dave
        .get(app.url(&format!("/lists/{list}")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404, "not on it: it does not exist for them");
}

async fn open_mode_has_lists_of_nobody(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.auth.mode = todomvc::config::AuthMode::Open;
    })
    .await;
    let (status, lists) = send(&app.client, &app, Method::GET, "/lists", None).await;
    assert_eq!(status, 200);
    assert_eq!(lists[0]["id"], 1);
    assert_eq!(lists[0]["owner"], Value::Null);
    app.create(json!({"title": "shared"})).await;
    assert_eq!(titles(&app, 1), ["shared"], "/todos is open mode's list");
    let id = new_list(&app, &app.client, "Another").await;
    assert_eq!(
        send(
            &app.client,
            &app,
            Method::GET,
            &format!("/lists/{id}"),
            None
        )
        .await
        .1["role"],
        "owner"
    );
    assert_eq!(
        share(&app, &app.client, id, "bob", "editor").await,
        404,
        "there are no users to share with"
    );
}

/// One text per row of what the migration must keep: todos (with their list's owner), the change
/// log and the kept answers.
fn migrated(database: &TestDatabase) -> Vec<String> {
    database
        .load::<Name>(
            "SELECT 'todo ' || t.id || ' ' || t.title || ' ' || t.position || ' ' || t.completed \
                 || ' ' || t.version || ' list ' || l.id || ' of ' || COALESCE(l.owner_id, 0) AS name \
             FROM todos t JOIN lists l ON l.id = t.list_id \
             UNION ALL SELECT 'change ' || id || ' list ' || list_id || ' todo ' || todo_id \
             FROM todo_changes \
             UNION ALL SELECT 'key ' || list || ' ' || key FROM idempotency_keys ORDER BY name",
        )
        .into_iter()
        .map(|row| row.name)
        .collect()
}

/// On a copy of a database from before lists, holding todos of several users and of open mode:
/// every todo lands in its owner's default list (open mode's in list 1), with its id, version and
/// change numbers; down and up again gives the same data.
async fn the_migration_moves_every_todo_into_its_owners_default_list(backend: Backend) {
    let database = TestDatabase::create(backend);
    let mut settings = crate::helpers::test_settings();
    settings.database.url = todomvc::db::DatabaseUrl::parse(&database.url).unwrap();
    let pool = todomvc::db::connect(&settings.database).unwrap();
    let mut conn = pool.get().unwrap();
    todomvc::models::run_pending_migrations(&mut conn).unwrap();
    // Back to before lists (and every migration after them).
    crate::helpers::revert_through(&mut conn, "20261208000001");
    database.execute(
        "INSERT INTO users (username, username_key, password_hash, created_at) VALUES \
         ('alice', 'alice', 'x', 10), ('bob', 'bob', 'x', 20)",
    );
    database.execute(
        "INSERT INTO todos (title, position, user_id) VALUES \
         ('open one', 1, NULL), ('alice one', 1, 1), ('bob one', 1, 2), ('alice two', 2, 1), \
         ('gone', 3, 1)",
    );
    database.execute("UPDATE todos SET completed = TRUE WHERE title = 'alice two'");
    database.execute("DELETE FROM todos WHERE title = 'gone'");
    database.execute(
        "INSERT INTO idempotency_keys (list, key, fingerprint, status, headers, body, created_at) \
         VALUES ('user:1', 'k', 'f', 201, '[]', '', 0), ('shared', 'k', 'f', 201, '[]', '', 0)",
    );
    todomvc::models::run_pending_migrations(&mut conn).unwrap();

    let lists = database.load::<Name>(
        "SELECT id || ' ' || title || ' ' || COALESCE(owner_id, 0) || ' ' || is_default AS name \
         FROM lists ORDER BY id",
    );
    let lists: Vec<String> = lists.into_iter().map(|row| row.name).collect();
    let yes = if backend == Backend::Sqlite {
        "1"
    } else {
        "true"
    };
    assert_eq!(
        lists,
        [
            format!("1 Todos 0 {yes}"),
            format!("2 Todos 1 {yes}"),
            format!("3 Todos 2 {yes}")
        ]
    );
    let todos = database.load::<Name>(
        "SELECT t.title || ' in ' || l.id AS name FROM todos t JOIN lists l ON l.id = t.list_id \
         ORDER BY t.id",
    );
    let todos: Vec<String> = todos.into_iter().map(|row| row.name).collect();
    assert_eq!(
        todos,
        [
            "open one in 1",
            "alice one in 2",
            "bob one in 3",
            "alice two in 2"
        ]
    );
    let after_up = migrated(&database);
    assert!(
        after_up.contains(&"key list:2:user:1 k".to_owned()),
        "{after_up:?}"
    );
    assert!(
        after_up.contains(&"key list:1 k".to_owned()),
        "{after_up:?}"
    );
    assert!(
        after_up
            .iter()
            .any(|row| row.starts_with("todo 4 alice two 2")),
        "{after_up:?}"
    );

    // Down: each todo is its owner's again.
    crate::helpers::revert_through(&mut conn, "20261208000001");
    let owners = database.load::<Name>(
        "SELECT title || ' of ' || COALESCE(user_id, 0) AS name FROM todos ORDER BY id",
    );
    let owners: Vec<String> = owners.into_iter().map(|row| row.name).collect();
    assert_eq!(
        owners,
        [
            "open one of 0",
            "alice one of 1",
            "bob one of 2",
            "alice two of 1"
        ]
    );
    // And up again: the same data, and ids are still never given twice.
    todomvc::models::run_pending_migrations(&mut conn).unwrap();
    assert_eq!(migrated(&database), after_up);
    database.execute("INSERT INTO todos (title, position) VALUES ('next', 9)");
    let next = database.load::<Name>("SELECT CAST(MAX(id) AS TEXT) AS name FROM todos");
    assert_eq!(next[0].name, "6", "the deleted todo's id 5 is not reused");
}

/// `todomvc lists` and the lists export, as operators run them.
async fn operators_list_share_export_and_import_lists(backend: Backend) {
    let crew = crew(backend).await;
    let (app, list) = (&crew.app, crew.list);
    let alice = As {
        app,
        client: &crew.alice,
    };
    alice
        .post(&format!("/lists/{list}/todos/"), json!({"title": "milk"}))
        .await;
    alice.post("/todos/", json!({"title": "call mum"})).await;
    let url = &app.database.url;
    let run = |args: &[&str]| todomvc(url, args, None);

    let listed = stdout(&run(&["lists", "list", "alice"]));
    assert!(
        listed.contains("\tTodos\towner\towner alice\t1 todos\tnot shared"),
        "{listed}"
    );
    assert!(
        listed.contains(&format!(
            "{list}\tGroceries\towner\towner alice\t1 todos\tbob (editor), carol (viewer)"
        )),
        "{listed}"
    );
    let listed = stdout(&run(&["lists", "list", "bob"]));
    assert!(
        listed.contains("\tGroceries\teditor\towner alice"),
        "{listed}"
    );

    let id = list.to_string();
    stdout(&run(&["lists", "share", &id, "dave", "--role", "editor"]));
    let dave = As {
        app,
        client: &crew.dave,
    };
    assert_eq!(
        dave.get(&format!("/lists/{list}")).await.1["role"],
        "editor"
    );
    stdout(&run(&["lists", "unshare", &id, "dave"]));
    assert_eq!(dave.get(&format!("/lists/{list}")).await.0, 404);
    for (args, message) in [
        (vec!["lists", "share", &id, "alice"], "an owner has no role"),
        (vec!["lists", "share", "999", "bob"], "there is no list 999"),
        (
            vec!["lists", "share", &id, "bob", "--role", "admin"],
            "--role must be editor or viewer",
        ),
        (vec!["lists", "unshare", &id, "dave"], "dave is not on"),
    ] {
        let output = run(&args);
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }

    let exported = stdout(&run(&["export", "--user", "alice"]));
    let export: Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(export["lists"][1]["title"], "Groceries");
    assert_eq!(export["lists"][1]["default"], false);
    assert_eq!(
        export["lists"][1]["members"],
        json!([{"username": "bob", "role": "editor"}, {"username": "carol", "role": "viewer"}])
    );
    assert_eq!(export["lists"][1]["todos"][0]["title"], "milk");

    // Into a fresh database with the same people: the same lists, members and todos.
    let other = crate::helpers::spawn_app(backend).await;
    for name in ["bob", "carol"] {
        other.sign_up(name, PASSWORD).await;
    }
    let bad = exported.replace("\"carol\"", "\"zed\"");
    let refused = todomvc(
        &other.database.url,
        &["import", "-", "--user", "alice"],
        Some(&bad),
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no other user \"zed\""));
    assert!(
        other
            .database
            .load::<Name>("SELECT title AS name FROM lists WHERE title = 'Groceries'")
            .is_empty(),
        "nothing imported"
    );
    let imported = todomvc(
        &other.database.url,
        &["import", "-", "--user", "alice"],
        Some(&exported),
    );
    assert_eq!(
        stdout(&imported).trim(),
        "imported 2 lists with 2 todos and 2 members for alice"
    );
    assert_eq!(
        stdout(&todomvc(
            &other.database.url,
            &["export", "--user", "alice"],
            None
        )),
        exported
    );
}

/// Two instances on one PostgreSQL database: the owner's change through one reaches the editor's
/// and the viewer's streams on the other within a second, and so does losing access.
#[tokio::test]
async fn across_two_postgresql_instances() {
    if crate::helpers::postgres_server("lists_across_instances").is_none() {
        return;
    }
    let crew = crew(Backend::Postgres).await;
    let other = crate::helpers::spawn_app_on(crew.app.database.clone(), |_| {}).await;
    let list = crew.list;
    let events = other.url(&format!("/lists/{list}/events"));
    let mut bobs = EventStream::open_at(&crew.bob, &events, None).await;
    let mut carols = EventStream::open_at(&crew.carol, &events, None).await;
    assert_eq!(bobs.next().await.name, "reset");
    assert_eq!(carols.next().await.name, "reset");
    let alice = As {
        app: &crew.app,
        client: &crew.alice,
    };
    alice
        .post(&format!("/lists/{list}/todos/"), json!({"title": "eggs"}))
        .await;
    for stream in [&mut bobs, &mut carols] {
        let event = stream
            .next_within(Duration::from_secs(1))
            .await
            .expect("within 1 s");
        assert_eq!(
            (event.name.as_str(), &event.data["title"]),
            ("upsert", &json!("eggs"))
        );
    }
    assert_eq!(
        alice.delete(&format!("/lists/{list}/members/bob")).await,
        204
    );
    assert!(
        bobs.ends_within(Duration::from_secs(1)).await,
        "ended on the other instance"
    );
    assert_eq!(
        share(&crew.app, &crew.alice, list, "carol", "editor").await,
        200
    );
    assert!(
        carols.ends_within(Duration::from_secs(1)).await,
        "a changed role ends it too"
    );
}

/// Lists and their members never become metric labels: routes are named by their patterns.
#[tokio::test]
async fn lists_are_no_metric_labels() {
    let crew = crew(Backend::Sqlite).await;
    let (app, list) = (&crew.app, crew.list);
    let bob = As {
        app,
        client: &crew.bob,
    };
    for path in [
        format!("/lists/{list}/todos/"),
        format!("/lists/{list}"),
        "/lists/987654/todos/".to_owned(),
    ] {
        bob.get(&path).await;
    }
    let metrics = app.get_text("/metrics").await;
    assert!(
        metrics.contains(r#"route="/lists/{list}/todos""#)
            || metrics.contains(r#"route="/lists/{list}/todos/""#),
        "{metrics}"
    );
    assert!(
        !metrics.contains(&format!("/lists/{list}")),
        "a list id became a label"
    );
    assert!(
        !metrics.contains("987654") && !metrics.contains("bob"),
        "a client's value became a label"
    );
}

on_both_engines!(
    operators_list_share_export_and_import_lists,
    the_migration_moves_every_todo_into_its_owners_default_list,
    a_list_is_created_and_listed,
    a_list_is_renamed_and_deleted,
    titles_are_checked,
    every_route_for_every_role,
    members_are_added_and_changed,
    members_leave_and_are_removed,
    losing_access_ends_streams_and_refuses_at_once,
    a_refusal_is_kept_under_its_key,
    the_page_of_a_list_is_served_to_browsers,
    open_mode_has_lists_of_nobody,
);
