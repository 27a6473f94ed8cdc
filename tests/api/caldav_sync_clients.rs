//! `vdirsyncer` and `todoman` from PyPI, as people use them in a terminal: vdirsyncer discovers the
//! lists and syncs them to a folder, todoman adds, completes and deletes tasks there, and each
//! change reaches the server on the next sync (checked through `/todos/`); a web edit reaches
//! `todo list` after the next sync.
//!
//! Needs both in the virtualenv `.ci/run` makes (`target/pyclients/venv`), or `CALDAV_VENV`
//! naming another; without them the test skips, saying so, except under CI=true.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::helpers::{Backend, TestApp, on_both_engines, skip, spawn_app};

fn tools(test: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("CALDAV_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/pyclients/venv"),
        PathBuf::from,
    );
    let bin = venv.join("bin");
    if bin.join("vdirsyncer").is_file() && bin.join("todo").is_file() {
        return Some(bin);
    }
    skip(&format!(
        "CalDAV sync test {test} needs vdirsyncer and todoman: `python3 -m venv \
         target/pyclients/venv && target/pyclients/venv/bin/pip install vdirsyncer==0.21.0 \
         todoman==4.7.0`, or CALDAV_VENV naming a virtualenv that has them"
    ));
    None
}

/// Runs a tool of the virtualenv with the test's configuration; returns what it printed (both
/// streams: vdirsyncer reports on standard error).
async fn run(bin: &Path, home: &Path, tool: &str, args: &[&str]) -> String {
    let mut command = Command::new(bin.join(tool));
    command
        .args(args)
        .env("VDIRSYNCER_CONFIG", home.join("vdirsyncer"))
        .env("TODOMAN_CONFIG", home.join("todoman.py"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .stdin(std::process::Stdio::null());
    let label = format!("{tool} {args:?}");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the tool ran")
        .expect("the tool started");
    assert!(
        output.status.success(),
        "{label} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn configure(app: &TestApp, home: &Path, token: &str, list: &str) {
    let tasks = home.join("tasks");
    std::fs::create_dir_all(tasks.join(list)).expect("the tasks folder");
    std::fs::write(
        home.join("vdirsyncer"),
        format!(
            "[general]\nstatus_path = \"{status}/\"\n\n\
             [pair tasks]\na = \"local\"\nb = \"remote\"\ncollections = [\"from b\"]\n\n\
             [storage local]\ntype = \"filesystem\"\npath = \"{tasks}/\"\nfileext = \".ics\"\n\n\
             [storage remote]\ntype = \"caldav\"\nurl = \"{url}/\"\nusername = \"alice\"\n\
             password = \"{token}\"\nitem_types = [\"VTODO\"]\n",
            status = home.join("status").display(),
            tasks = tasks.display(),
            url = app.address,
        ),
    )
    .expect("vdirsyncer's config");
    std::fs::write(
        home.join("todoman.py"),
        format!(
            "path = \"{}/*\"\ndate_format = \"%Y-%m-%d\"\ntime_format = \"%H:%M\"\n\
             default_list = \"{list}\"\n",
            tasks.display()
        ),
    )
    .expect("todoman's config");
}

async fn vdirsyncer_and_todoman_keep_a_folder_and_the_server_in_step(backend: Backend) {
    let Some(bin) = tools("vdirsyncer_and_todoman_keep_a_folder_and_the_server_in_step") else {
        return;
    };
    let app = spawn_app(backend).await;
    let token = app
        .create_token(app.user.as_ref().expect("alice"), "laptop")
        .await;
    let lists = app.get_json("/lists").await;
    let list = lists[0]["id"].to_string();
    let home = tempfile::tempdir().expect("a home");
    let home = home.path();
    configure(&app, home, &token, &list);

    let discovered = run(&bin, home, "vdirsyncer", &["discover"]).await;
    assert!(discovered.contains("Todos"), "{discovered}");
    run(&bin, home, "vdirsyncer", &["sync"]).await;

    run(&bin, home, "todo", &["new", "-l", &list, "Buy bread"]).await;
    run(&bin, home, "vdirsyncer", &["sync"]).await;
    let todos = app.get_json("/todos/").await;
    assert_eq!(todos[0]["title"], "Buy bread", "{todos}");

    run(&bin, home, "todo", &["done", "1"]).await;
    run(&bin, home, "vdirsyncer", &["sync"]).await;
    assert_eq!(app.get_json("/todos/").await[0]["completed"], json!(true));

    let id = todos[0]["id"].clone();
    let renamed = app
        .client
        .patch(app.url(&format!("/todos/{id}")))
        .json(&json!({"title": "Buy rye bread"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    run(&bin, home, "vdirsyncer", &["sync"]).await;
    let listed = run(&bin, home, "todo", &["list", "--status", "ANY"]).await;
    assert!(listed.contains("Buy rye bread"), "{listed}");

    // Emptying a list locally needs --force-delete, as vdirsyncer's own safety asks.
    run(&bin, home, "todo", &["delete", "--yes", "1"]).await;
    let pair = format!("tasks/{list}");
    run(&bin, home, "vdirsyncer", &["sync", "--force-delete", &pair]).await;
    assert_eq!(app.get_json("/todos/").await, json!([]));
}

on_both_engines!(vdirsyncer_and_todoman_keep_a_folder_and_the_server_in_step);
