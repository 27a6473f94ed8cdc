//! Lists without JavaScript: the switcher, the list's page for each role, and the forms that make,
//! rename, delete and share lists (303 back, or the page again with the message and the text kept).

use reqwest::Client;

use crate::helpers::{Backend, Name, TestApp, on_both_engines};
use crate::lists::{crew, snapshot, titles};

async fn page(app: &TestApp, client: &Client, path: &str) -> (u16, String) {
    let response = client
        .get(app.url(path))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn post(
    app: &TestApp,
    client: &Client,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let response = app.post_form(client, path, fields).await;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, response.text().await.unwrap())
}

/// The `<nav aria-label="Lists">` of a page.
fn switcher(html: &str) -> &str {
    let start = html
        .find(r#"<nav class="lists-nav" aria-label="Lists">"#)
        .expect("the switcher");
    &html[start..start + html[start..].find("</nav>").unwrap()]
}

async fn the_switcher_marks_the_current_list_and_shared_ones(backend: Backend) {
    let crew = crew(backend).await;
    let (app, list) = (&crew.app, crew.list);
    let (status, html) = page(app, &crew.alice, "/").await;
    assert_eq!(status, 200);
    let nav = switcher(&html);
    assert!(
        nav.contains(r#"<a href="/" aria-current="page" class="current">Todos</a>"#),
        "{nav}"
    );
    assert!(
        nav.contains(&format!(
            r#"<a href="/lists/{list}">Groceries</a> <span class="shared-mark">(shared)</span>"#
        )),
        "{nav}"
    );
    let (_, html) = page(app, &crew.alice, &format!("/lists/{list}")).await;
    let nav = switcher(&html);
    assert!(
        nav.contains(&format!(
            r#"<a href="/lists/{list}" aria-current="page" class="current">Groceries</a>"#
        )),
        "{nav}"
    );
    assert!(html.contains(r#"<h2 id="list-title" class="list-title">Groceries</h2>"#));
    assert!(html.contains(&format!(
        r#"<a class="sharing-link" href="/lists/{list}/sharing">Share “Groceries”</a>"#
    )));

    // Bob's own page lists the list shared with him; Dave's does not.
    let (_, html) = page(app, &crew.bob, "/").await;
    assert!(switcher(&html).contains(&format!(
        r#"<a href="/lists/{list}">Groceries</a> <span class="shared-mark">(shared)</span>"#
    )));
    let (_, html) = page(app, &crew.dave, "/").await;
    assert!(!switcher(&html).contains("Groceries"));
    let (status, html) = page(app, &crew.dave, &format!("/lists/{list}")).await;
    assert_eq!(status, 404);
    assert!(html.contains("there is no list with id"), "{html}");
}

async fn lists_are_made_renamed_and_deleted_with_forms(backend: Backend) {
    let crew = crew(backend).await;
    let (app, alice) = (&crew.app, &crew.alice);
    let (status, location, _) = post(app, alice, "/lists", &[("title", "  Trip  ")]).await;
    assert_eq!(status, 303);
    let id: i64 = location.strip_prefix("/lists/").unwrap().parse().unwrap();
    let long = "x".repeat(101);
    let (status, _, html) = post(app, alice, "/lists", &[("title", &long)]).await;
    assert_eq!(status, 422);
    assert!(
        html.contains("Title must be at most 100 characters long, not 101."),
        "{html}"
    );
    assert!(
        html.contains(&format!(r#"value="{long}""#)),
        "the typed title is kept"
    );

    let rename = format!("/lists/{id}/rename");
    let (status, location, _) = post(app, alice, &rename, &[("title", "Holiday")]).await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/lists/{id}").as_str())
    );
    let (status, _, html) = post(app, alice, &rename, &[("title", "   ")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("Title must not be empty."), "{html}");
    let (_, html) = page(app, alice, &format!("/lists/{id}")).await;
    assert!(html.contains(r#"<h2 id="list-title" class="list-title">Holiday</h2>"#));

    // Others cannot rename or delete it.
    let before = snapshot(app);
    let (status, _, html) = post(
        app,
        &crew.bob,
        &format!("/lists/{}/rename", crew.list),
        &[("title", "Mine")],
    )
    .await;
    assert_eq!(status, 403);
    assert!(html.contains("only the owner of “Groceries”"), "{html}");
    assert_eq!(
        post(
            app,
            &crew.dave,
            &format!("/lists/{}/delete", crew.list),
            &[]
        )
        .await
        .0,
        404
    );
    assert_eq!(snapshot(app), before);

    let (status, location, _) = post(app, alice, &format!("/lists/{id}/delete"), &[]).await;
    assert_eq!((status, location.as_str()), (303, "/"));
    assert_eq!(page(app, alice, &format!("/lists/{id}")).await.0, 404);
    let default = app.database.load::<Name>(
        "SELECT CAST(id AS TEXT) AS name FROM lists WHERE is_default AND owner_id = \
         (SELECT id FROM users WHERE username = 'alice')",
    );
    let (status, _, html) = post(
        app,
        alice,
        &format!("/lists/{}/delete", default[0].name),
        &[],
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        html.contains("is your default list, which cannot be deleted"),
        "{html}"
    );
}

async fn viewers_see_no_edit_controls_and_their_forms_are_refused(backend: Backend) {
    let crew = crew(backend).await;
    let (app, list) = (&crew.app, crew.list);
    let (status, location, _) = post(
        app,
        &crew.bob,
        &format!("/lists/{list}/add"),
        &[("title", "flour")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/lists/{list}").as_str())
    );
    assert_eq!(titles(app, list), ["flour"]);

    let (_, html) = page(app, &crew.carol, &format!("/lists/{list}")).await;
    assert!(html.contains("<label>flour</label>"));
    assert!(html.contains("You can view this list, not change it"));
    for control in [
        r#"id="new-todo""#,
        r#"<button class="toggle""#,
        r#"class="destroy""#,
        r#"id="toggle-all""#,
        "clear-completed",
        "edit-link",
    ] {
        assert!(!html.contains(control), "a viewer's page has no {control}");
    }
    assert!(html.contains(r#"role="img" aria-label="Not completed""#));
    let (_, html) = page(app, &crew.bob, &format!("/lists/{list}")).await;
    assert!(html.contains(r#"id="new-todo""#) && html.contains(r#"<button class="toggle""#));
    assert!(html.contains(&format!(r#"action="/lists/{list}/add""#)));

    let before = snapshot(app);
    for path in ["add", "toggle-all", "clear-completed"] {
        let (status, _, html) = post(
            app,
            &crew.carol,
            &format!("/lists/{list}/{path}"),
            &[("title", "x"), ("completed", "true")],
        )
        .await;
        assert_eq!(status, 403, "{path}");
        assert!(
            html.contains("you can view “Groceries” but not change it"),
            "{html}"
        );
    }
    assert_eq!(
        post(
            app,
            &crew.dave,
            &format!("/lists/{list}/add"),
            &[("title", "x")]
        )
        .await
        .0,
        404
    );
    assert_eq!(snapshot(app), before);
}

async fn the_sharing_page_adds_changes_and_removes_people(backend: Backend) {
    let crew = crew(backend).await;
    let (app, list) = (&crew.app, crew.list);
    let sharing = format!("/lists/{list}/sharing");
    let (status, html) = page(app, &crew.alice, &sharing).await;
    assert_eq!(status, 200);
    assert!(html.contains("<h2 id=\"sharing-heading\">Share “Groceries”</h2>"));
    assert!(html.contains(r#"<th scope="row">bob</th>"#) && html.contains("Remove carol"));

    let (status, location, _) = post(
        app,
        &crew.alice,
        &sharing,
        &[("username", "dave"), ("role", "editor")],
    )
    .await;
    assert_eq!((status, location.as_str()), (303, sharing.as_str()));
    let role = |name: &str| {
        app.database
            .load::<Name>(&format!(
                "SELECT role AS name FROM memberships JOIN users ON users.id = user_id \
                 WHERE list_id = {list} AND username = '{name}'"
            ))
            .into_iter()
            .map(|row| row.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(role("dave"), ["editor"]);
    let (status, _, html) = post(
        app,
        &crew.alice,
        &sharing,
        &[("username", "nobody"), ("role", "viewer")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("There is no user “nobody”.") && html.contains(r#"value="nobody""#),
        "{html}"
    );
    assert_eq!(
        post(
            app,
            &crew.alice,
            &format!("{sharing}/dave"),
            &[("role", "viewer")]
        )
        .await
        .0,
        303
    );
    assert_eq!(role("dave"), ["viewer"]);
    assert_eq!(
        post(app, &crew.alice, &format!("{sharing}/dave/remove"), &[])
            .await
            .0,
        303
    );
    assert_eq!(role("dave"), Vec::<String>::new());

    // A member sees who is on it, and leaves; they cannot remove others.
    let (_, html) = page(app, &crew.bob, &sharing).await;
    assert!(html.contains("Who is on “Groceries”") && html.contains("Leave “Groceries”"));
    assert!(!html.contains("Add a person"));
    assert_eq!(
        post(app, &crew.bob, &format!("{sharing}/carol/remove"), &[])
            .await
            .0,
        403
    );
    assert_eq!(
        post(
            app,
            &crew.bob,
            &sharing,
            &[("username", "dave"), ("role", "editor")]
        )
        .await
        .0,
        403
    );
    let (status, location, _) = post(app, &crew.bob, &format!("{sharing}/bob/remove"), &[]).await;
    assert_eq!((status, location.as_str()), (303, "/"));
    assert_eq!(role("bob"), Vec::<String>::new());
    assert_eq!(page(app, &crew.bob, &sharing).await.0, 404);
}

/// The todo forms under a list: each goes back to the list's page under its filter.
async fn a_lists_todo_forms_go_back_to_its_page(backend: Backend) {
    let crew = crew(backend).await;
    let (app, list, bob) = (&crew.app, crew.list, &crew.bob);
    let base = format!("/lists/{list}");
    let (status, location, _) = post(
        app,
        bob,
        &format!("{base}/add"),
        &[("title", "tea"), ("filter", "active")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("{base}/active").as_str())
    );
    let id = app
        .database
        .load::<Name>("SELECT CAST(id AS TEXT) AS name FROM todos WHERE title = 'tea'");
    let todo = format!("{base}/todos/{}", id[0].name);
    let (status, location, _) = post(
        app,
        bob,
        &format!("{todo}/toggle"),
        &[
            ("version", "1"),
            ("completed", "true"),
            ("filter", "completed"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("{base}/completed").as_str())
    );
    let (status, location, _) = post(
        app,
        bob,
        &format!("{todo}/edit"),
        &[("version", "2"), ("title", "green tea")],
    )
    .await;
    assert_eq!((status, location.as_str()), (303, base.as_str()));
    assert_eq!(titles(app, list), ["green tea"]);
    let (status, _, html) = post(
        app,
        bob,
        &format!("{todo}/edit"),
        &[("version", "3"), ("title", &"x".repeat(1001))],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        html.contains(&format!(r#"action="{todo}/edit""#)),
        "the edit view of the list's page"
    );
    let (status, location, _) = post(
        app,
        bob,
        &format!("{base}/toggle-all"),
        &[("completed", "false")],
    )
    .await;
    assert_eq!((status, location.as_str()), (303, base.as_str()));
    let (status, location, _) =
        post(app, bob, &format!("{todo}/delete"), &[("version", "4")]).await;
    assert_eq!((status, location.as_str()), (303, base.as_str()));
    assert_eq!(titles(app, list), Vec::<String>::new());
    let (status, location, _) = post(
        app,
        &app.anonymous,
        &format!("{base}/add"),
        &[("title", "x")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        location,
        format!("/login?next=%2Flists%2F{list}"),
        "signed out: sign in, then back"
    );
}

on_both_engines!(
    a_lists_todo_forms_go_back_to_its_page,
    the_switcher_marks_the_current_list_and_shared_ones,
    lists_are_made_renamed_and_deleted_with_forms,
    viewers_see_no_edit_controls_and_their_forms_are_refused,
    the_sharing_page_adds_changes_and_removes_people,
);
