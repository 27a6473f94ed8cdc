//! The house's plan, checked from the code: every `crate::` path in `src/` goes to a module on a
//! lower floor (or its own), and no files of one folder import each other in a circle, in `src/`
//! and in the benchmark harness. `cargo test --test api layers` prints the floors.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors of `src/`, lowest first: a module may use modules of its own floor's left or below.
/// Two modules on one floor do not use each other.
const FLOORS: &[&[&str]] = &[
    &["config", "schema"],
    &["db"],
    &["models"],
    &["error"],
    &["proxy", "deadline", "freshness"],
    &["telemetry"],
    &["writer"],
    &["auth"],
    &["lists"],
    &["idempotency", "events"],
    &["store", "drain"],
    &["routes"],
    &["startup"],
    &["cli"],
];

fn floor_of(module: &str) -> Option<usize> {
    FLOORS.iter().position(|floor| floor.contains(&module))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The code of a file without its comments (so that a doc comment naming a path is no import).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segments of the paths that start with `prefix` (`crate::`, `super::`), including each
/// item of a group such as `super::{cache::X, page}`.
fn segments_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                found.extend(first_segment(item.trim()));
            }
        } else {
            found.extend(first_segment(rest));
        }
    }
    found
}

fn first_segment(path: &str) -> Option<String> {
    let name: String = path
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The top-level module a file of `src/` belongs to (`src/db/pool.rs` → `db`).
fn module_of(file: &Path) -> String {
    let relative = file.strip_prefix(root().join("src")).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_owned()
}

#[test]
fn every_import_goes_down_a_floor() {
    let mut wrong = Vec::new();
    for file in rust_files(&root().join("src")) {
        let module = module_of(&file);
        if matches!(module.as_str(), "lib" | "main") {
            continue;
        }
        let own = floor_of(&module)
            .unwrap_or_else(|| panic!("{module} has no floor: add it to FLOORS in layers.rs"));
        for used in segments_after(&code(&file), "crate::") {
            if used == module {
                continue;
            }
            match floor_of(&used) {
                Some(floor) if floor < own => {}
                _ => wrong.push(format!("{} uses crate::{used}", file.display())),
            }
        }
    }
    for (number, floor) in FLOORS.iter().enumerate() {
        println!("floor {:2}: {}", number + 1, floor.join(", "));
    }
    assert!(
        wrong.is_empty(),
        "imports that run up a floor or across one:\n{}",
        wrong.join("\n")
    );
}

/// The arrows between the files of one folder: `super::sibling` (and, for the benchmark harness,
/// whose folder is its crate, `crate::sibling`).
fn sibling_arrows(dir: &Path, prefixes: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let stems: BTreeSet<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| {
            let path = entry.unwrap().path();
            let stem = path.file_stem()?.to_string_lossy().into_owned();
            (path.extension().is_some_and(|ext| ext == "rs") && stem != "mod" && stem != "main")
                .then_some(stem)
        })
        .collect();
    let mut arrows = BTreeMap::new();
    for stem in &stems {
        let code = code(&dir.join(format!("{stem}.rs")));
        let used: BTreeSet<String> = prefixes
            .iter()
            .flat_map(|prefix| segments_after(&code, prefix))
            .filter(|used| used != stem && stems.contains(used))
            .collect();
        arrows.insert(stem.clone(), used);
    }
    arrows
}

/// A circle among `arrows`, if there is one, as the files in order.
fn circle(arrows: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        arrows: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|seen| seen == node) {
            let mut found = path[start..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in arrows.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, arrows, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    arrows
        .keys()
        .find_map(|node| visit(node, arrows, &mut Vec::new(), &mut done))
}

#[test]
fn no_files_of_one_folder_import_each_other_in_a_circle() {
    let mut folders: Vec<(PathBuf, &[&str])> = vec![(root().join("benches/harness"), &["crate::"])];
    let src = root().join("src");
    let dirs: BTreeSet<PathBuf> = rust_files(&src)
        .iter()
        .filter_map(|file| file.parent().map(Path::to_path_buf))
        .filter(|dir| *dir != src)
        .collect();
    folders.extend(dirs.into_iter().map(|dir| (dir, &["super::"][..])));
    let mut circles = Vec::new();
    for (dir, prefixes) in &folders {
        if let Some(found) = circle(&sibling_arrows(dir, prefixes)) {
            circles.push(format!("{}: {}", dir.display(), found.join(" → ")));
        }
    }
    assert!(circles.is_empty(), "circles:\n{}", circles.join("\n"));
}

#[test]
fn the_check_sees_a_circle_and_an_arrow_up() {
    let arrows = BTreeMap::from([
        ("cache".to_owned(), BTreeSet::from(["page".to_owned()])),
        ("page".to_owned(), BTreeSet::from(["todos".to_owned()])),
        ("todos".to_owned(), BTreeSet::from(["cache".to_owned()])),
    ]);
    assert_eq!(
        circle(&arrows),
        Some(vec![
            "cache".into(),
            "page".into(),
            "todos".into(),
            "cache".into()
        ])
    );
    assert_eq!(
        segments_after(
            "use super::{cache::X, page};\nlet a = crate::db::open();",
            "super::"
        ),
        BTreeSet::from(["cache".to_owned(), "page".to_owned()])
    );
    assert!(floor_of("db") < floor_of("error"));
}
