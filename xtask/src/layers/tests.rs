//! Unit tests of `layers`, on crates written in memory.

use super::files::{toml_array, toml_string};
use super::*;

/// A crate `t` made of `files`, with `floors` if given.
fn source(files: &[(&str, &str)], floors: Option<&str>) -> CrateSource {
    CrateSource {
        name: "t".into(),
        src: "t/src".into(),
        files: files
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect(),
        floors: floors.map(|text| ("t/layers.txt".to_string(), text.to_string())),
    }
}

/// Every import of the crate as `from -> to at file:line`.
fn imports(files: &[(&str, &str)]) -> Vec<String> {
    let graph = build_graph(&source(files, None), &BTreeSet::new());
    graph
        .imports
        .iter()
        .flat_map(|((from, to), places)| {
            places.iter().map(move |p| format!("{from} -> {to} at {p}"))
        })
        .collect()
}

/// The names a file of module `module` reaches at the crate root.
fn names(module: &[&str], text: &str) -> Vec<String> {
    let module: Vec<String> = module.iter().map(|s| s.to_string()).collect();
    let (tokens, _) = strip_test_code(&lex(text));
    root_references(&tokens, &module)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn plain_and_grouped_crate_paths() {
    let text = "use crate::a::X;\nuse crate::{b::Y, c::{D, E}, self, *};\nfn f() -> crate::d::T { crate::e::f() }";
    assert_eq!(names(&["m"], text), ["a", "b", "c", "d", "e"]);
}

#[test]
fn nested_groups_count_only_their_first_segments() {
    let text = "use crate::{a::{b::{C, D}, e::F}, g, h::{self, I}};\nuse {std::fmt, crate::j};";
    assert_eq!(names(&["m"], text), ["a", "g", "h", "j"]);
}

#[test]
fn super_chains_count_when_they_reach_the_root() {
    // src/foo.rs
    assert_eq!(names(&["foo"], "use super::bar::X;"), ["bar"]);
    assert_eq!(names(&["foo"], "use super::{bar, baz::Y};"), ["bar", "baz"]);
    // src/foo/x.rs or src/foo/x/mod.rs: one `super` stays in foo.
    assert_eq!(
        names(&["foo", "x"], "use super::y::Z;"),
        Vec::<String>::new()
    );
    assert_eq!(names(&["foo", "x"], "use super::super::bar::Z;"), ["bar"]);
    // An inline module adds a level.
    let text =
        "mod inner { use super::super::bar; }\nuse super::baz;\nfn f() { pub(super) struct S; }";
    assert_eq!(names(&["foo"], text), ["bar", "baz"]);
}

#[test]
fn super_of_mod_rs_is_the_parent_of_its_directory() {
    let files = [
        ("lib.rs", "mod foo; mod bar;"),
        ("foo/mod.rs", "use super::bar::B;\nmod x;"),
        ("foo/x.rs", "use super::super::bar::C;\nuse super::Y;"),
        ("bar.rs", "pub struct B;"),
    ];
    assert_eq!(
        imports(&files),
        [
            "foo -> bar at t/src/foo/mod.rs:1",
            "foo -> bar at t/src/foo/x.rs:1"
        ]
    );
}

#[test]
fn comments_and_literals_are_not_code() {
    let text = r###"
//! The module docs name [`crate::a`].
/// see [`crate::auth`]
// crate::b
/* crate::c /* nested crate::d */ crate::e */
fn f<'a>(s: &'a str) -> char {
    let _ = "crate::g \" crate::h";
    let _ = b"crate::i";
    let _ = r"crate::j \";
    let _ = r#"crate::k "quoted" "#;
    let _ = br##"crate::l "# "##;
    let _ = ('"', b'\'', '\u{1F600}', 'x');
    'outer: loop { break 'outer; }
    crate::real::f(s)
}
"###;
    assert_eq!(names(&["m"], text), ["real"]);
}

#[test]
fn lines_are_counted_through_comments_and_strings() {
    let text = "/* one\ntwo */\nconst S: &str = \"a\nb\";\nuse crate::x;";
    let (tokens, _) = strip_test_code(&lex(text));
    assert_eq!(
        root_references(&tokens, &["m".to_string()]),
        [("x".to_string(), 5)]
    );
}

#[test]
fn test_code_is_not_an_import() {
    let text = r#"
use crate::kept;
#[cfg(test)]
mod tests { use crate::x; fn f() { crate::y::g(); } }
#[cfg(test)] use crate::z;
#[cfg(test)]
#[allow(dead_code)]
pub(crate) fn helper(v: [u8; 2]) -> crate::w::T { todo!() }
#[cfg(all(unix, test))] const C: u8 = crate::v::C;
struct S { #[cfg(test)] field: crate::u::U, other: crate::kept2::K }
#[cfg(not(test))] use crate::kept3;
#[cfg(any(test, fuzzing))] use crate::kept4;
"#;
    assert_eq!(names(&["m"], text), ["kept", "kept2", "kept3", "kept4"]);
}

#[test]
fn inner_cfg_test_exempts_the_rest_of_its_block() {
    let text = "mod a { #![cfg(test)] use crate::x; }\nuse crate::kept;";
    assert_eq!(names(&["m"], text), ["kept"]);
    assert_eq!(
        names(&["m"], "#![cfg(test)]\nuse crate::x;"),
        Vec::<String>::new()
    );
}

#[test]
fn test_files_are_not_importers() {
    let files = [
        ("lib.rs", "mod a; mod b; mod c;"),
        (
            "a/mod.rs",
            "#[cfg(test)]\nmod helpers;\n#[cfg(test)] mod tests;\nmod real;",
        ),
        ("a/tests.rs", "use crate::b;"),
        ("a/helpers.rs", "use crate::b;"),
        ("a/helpers/deep.rs", "use crate::b;"),
        ("a/tree_tests.rs", "use crate::b;"),
        ("a/proptests.rs", "use crate::b;"),
        ("a/tests/mod.rs", "use crate::b;"),
        ("a/tests/case.rs", "use crate::b;"),
        (
            "a/real.rs",
            "#[cfg(test)]\n#[path = \"custom.rs\"]\nmod t;\nuse crate::c;",
        ),
        ("a/custom.rs", "use crate::b;"),
        ("b.rs", ""),
        ("c.rs", ""),
    ];
    assert_eq!(imports(&files), ["a -> c at t/src/a/real.rs:4"]);
}

#[test]
fn crate_roots_are_not_importers_and_root_items_are_not_modules() {
    let files = [
        ("lib.rs", "pub mod a; pub mod b; use crate::a::X;"),
        ("main.rs", "use crate::b::Y;"),
        ("bin/tool.rs", "use crate::a::Z;"),
        ("a.rs", "use crate::{Error, b::Y};\nuse super::Result;"),
        ("b.rs", "use crate::b::Self_;"),
    ];
    assert_eq!(imports(&files), ["a -> b at t/src/a.rs:1"]);
}

#[test]
fn cycles_name_each_import_in_them() {
    let files = [
        ("a.rs", "use crate::b;"),
        ("b.rs", "\nuse crate::c;"),
        ("c.rs", "use crate::d;\n\n\nuse crate::a;"),
        ("d.rs", ""),
        ("e.rs", "use crate::f;"),
        ("f.rs", "use crate::e;"),
    ];
    let report = check(&source(&files, None));
    assert_eq!(
        report.problems,
        [
            "modules in a cycle: a, b, c (each import in it, with one place):\n    \
             a -> b at t/src/a.rs:1\n    \
             b -> c at t/src/b.rs:2\n    \
             c -> a at t/src/c.rs:4",
            "modules in a cycle: e, f (each import in it, with one place):\n    \
             e -> f at t/src/e.rs:1\n    \
             f -> e at t/src/f.rs:1",
        ]
    );
    assert_eq!(report.summary, "t: 6 modules, 2 cycles");
}

#[test]
fn floors_allow_imports_down_and_sideways() {
    let floors = "# lowest first\ncodec\nengine   # the sessions\n\nserver config\nmissing\n";
    let files = [
        ("engine.rs", "use crate::codec::Packet;"),
        ("server.rs", "use crate::{engine, config};"),
        ("config.rs", "use crate::engine::Settings;"),
    ];
    let report = check(&source(&files, Some(floors)));
    assert_eq!(report.problems, Vec::<String>::new());
    // `codec` has no file (a re-exported crate) but is imported, so it is a module.
    assert_eq!(report.summary, "t: 4 modules, 0 cycles, floors hold");
}

#[test]
fn floors_forbid_imports_up_and_modules_on_no_floor() {
    let floors = "codec\nengine\nserver\n";
    let files = [
        (
            "codec.rs",
            "\nuse crate::engine::Session;\nuse crate::server::S;",
        ),
        ("engine/mod.rs", "use crate::server::Outbox;"),
        (
            "engine/x.rs",
            "fn f() { crate::server::g(); crate::server::h(); }",
        ),
        ("server.rs", ""),
        ("extra.rs", ""),
    ];
    let report = check(&source(&files, Some(floors)));
    assert_eq!(
        report.problems,
        [
            "module extra is on no floor: add it to t/layers.txt",
            "t/src/codec.rs:2: codec (floor 1) imports engine (floor 2), a higher floor",
            "t/src/codec.rs:3: codec (floor 1) imports server (floor 3), a higher floor",
            "t/src/engine/mod.rs:1: engine (floor 2) imports server (floor 3), a higher floor",
            "t/src/engine/x.rs:1: engine (floor 2) imports server (floor 3), a higher floor",
        ]
    );
    assert_eq!(report.summary, "t: 4 modules, 0 cycles, floors broken");
}

#[test]
fn a_floors_file_with_mistakes_is_a_problem() {
    let (floors, problems) = parse_floors("a b\nc a\nd-e\n", "t/layers.txt");
    assert_eq!(floors.get("c"), Some(&2));
    assert_eq!(
        problems,
        [
            "t/layers.txt:2: module a is on floor 1 already",
            "t/layers.txt:3: \"d-e\" is not a module name",
        ]
    );
}

#[test]
fn workspace_members_are_read_from_the_manifest() {
    let manifest = r#"
[workspace]
resolver = "2"
members = [
    "broker", # the broker
    "benches",
]
exclude = ["fuzz"]

[workspace.package]
members = ["not this"]

[package]
name = "tern" # the binary's name too
"#;
    assert_eq!(
        toml_array(manifest, "workspace", "members"),
        ["broker", "benches"]
    );
    assert_eq!(toml_array(manifest, "workspace", "exclude"), ["fuzz"]);
    assert_eq!(
        toml_array(manifest, "workspace", "default-members"),
        Vec::<String>::new()
    );
    assert_eq!(
        toml_string(manifest, "package", "name").as_deref(),
        Some("tern")
    );
}

#[test]
fn module_paths_of_files() {
    assert_eq!(module_path("lib.rs"), None);
    assert_eq!(module_path("bin/loadgen.rs"), None);
    assert_eq!(module_path("foo.rs"), Some(vec!["foo".to_string()]));
    assert_eq!(
        module_path("foo/bar/mod.rs"),
        Some(vec!["foo".to_string(), "bar".to_string()])
    );
    assert_eq!(normalize("/a/./b/../c.rs"), "a/c.rs");
}
