use super::*;

fn who<'a>(user: Option<&'a str>, client: &'a str) -> Who<'a> {
    Who {
        username: user,
        client_id: client,
        identity: None,
        address: None,
    }
}

const FILE: &str = "\
# Everyone reads the public tree.
topic read public/#

user alice
topic deny home/alice/secret/#
topic readwrite home/alice/#

user admin*
topic readwrite #

client sensor-*
topic write sensors/%c/#

all
topic readwrite home/%u/#
topic read $SYS/#

identity CN=device 1,O=Acme
topic write devices/one/#
";

fn acl(default_allow: bool) -> Acl {
    Acl::parse(FILE, default_allow).unwrap()
}

#[test]
fn publishing_first_match_wins() {
    let a = acl(false);
    let alice = who(Some("alice"), "phone");
    assert!(a.may_publish(&alice, "home/alice/lamp"));
    assert!(!a.may_publish(&alice, "home/alice/secret/key"));
    // `read` is read-only: a PUBLISH matching it is refused even if a later rule would allow.
    assert!(!a.may_publish(&alice, "public/news"));
    assert!(!a.may_publish(&alice, "home/bob/lamp"));
    // %u for everyone else.
    let bob = who(Some("bob"), "x");
    assert!(a.may_publish(&bob, "home/bob/lamp"));
    assert!(!a.may_publish(&bob, "home/alice/lamp"));
    // Globs on user names and client identifiers, and %c.
    assert!(a.may_publish(&who(Some("admin-2"), "x"), "anything/at/all"));
    let sensor = who(None, "sensor-7");
    assert!(a.may_publish(&sensor, "sensors/sensor-7/temp"));
    assert!(!a.may_publish(&sensor, "sensors/sensor-8/temp"));
    assert!(!a.may_publish(&who(None, "other"), "sensors/other/temp"));
    // The default decides what nothing matches.
    assert!(!a.may_publish(&bob, "elsewhere"));
    assert!(acl(true).may_publish(&bob, "elsewhere"));
    // `#` for admins does not reach $ topics, but the explicit rule does, for reading only.
    let admin = who(Some("admin"), "x");
    assert!(!a.may_publish(&admin, "$SYS/x"));
    assert!(a.may_subscribe(&admin, "$SYS/#"));
}

#[test]
fn identities_select_sections() {
    let a = acl(false);
    let mut device = who(None, "d1");
    assert!(!a.may_publish(&device, "devices/one/x"));
    device.identity = Some("CN=device 1,O=Acme");
    assert!(a.may_publish(&device, "devices/one/x"));
    device.identity = Some("CN=device 2,O=Acme");
    assert!(!a.may_publish(&device, "devices/one/x"));
}

#[test]
fn addresses_select_sections() {
    let a = Acl::parse(
        "address 10.0.0.0/8\ntopic readwrite plant/#\n\
         address 192.0.2.7\ntopic readwrite door/#\n\
         address fd00::/8\ntopic readwrite lab/#\n\
         address 10.1.2.3/16\ntopic readwrite subnet/#\n",
        false,
    )
    .unwrap();
    let from = |address: Option<&str>| Who {
        address: address.map(|a| a.parse().unwrap()),
        ..who(None, "c")
    };
    assert!(a.may_publish(&from(Some("10.9.8.7")), "plant/x"));
    assert!(!a.may_publish(&from(Some("11.0.0.1")), "plant/x"));
    assert!(a.may_publish(&from(Some("192.0.2.7")), "door/x"));
    assert!(!a.may_publish(&from(Some("192.0.2.8")), "door/x"));
    assert!(a.may_subscribe(&from(Some("fd12::1")), "lab/#"));
    assert!(!a.may_subscribe(&from(Some("fe80::1")), "lab/#"));
    // Host bits written in a network are ignored: 10.1.2.3/16 is 10.1.0.0/16.
    assert!(a.may_publish(&from(Some("10.1.200.1")), "subnet/x"));
    // No address (an in-process client): no address section selects it.
    assert!(!a.may_publish(&from(None), "plant/x"));
}

#[test]
fn anonymous_section() {
    let a = Acl::parse(
        "anonymous\ntopic read public/#\nall\ntopic write public/#\n",
        false,
    )
    .unwrap();
    assert!(!a.may_publish(&who(None, "c"), "public/x"));
    assert!(a.may_publish(&who(Some("u"), "c"), "public/x"));
}

#[test]
fn subscribing_needs_every_topic_readable() {
    let a = acl(false);
    let alice = who(Some("alice"), "phone");
    assert!(a.may_subscribe(&alice, "public/#"));
    assert!(a.may_subscribe(&alice, "public/+/x"));
    assert!(a.may_subscribe(&alice, "home/alice/lamp"));
    // home/alice/# includes the secret tree, which a deny rule above covers in part.
    assert!(!a.may_subscribe(&alice, "home/alice/#"));
    assert!(!a.may_subscribe(&alice, "home/+/lamp"));
    assert!(!a.may_subscribe(&alice, "home/alice/secret/key"));
    assert!(!a.may_subscribe(&alice, "#"));
    // A write-only rule allows no reading.
    let sensor = who(None, "sensor-7");
    assert!(!a.may_subscribe(&sensor, "sensors/sensor-7/temp"));
    // With the default allowing, a filter no rule covers is allowed unless an overlapping
    // rule refuses reading.
    let open = acl(true);
    let bob = who(Some("bob"), "x");
    assert!(open.may_subscribe(&bob, "elsewhere/#"));
    assert!(!open.may_subscribe(&sensor, "sensors/#"));
    assert!(!open.may_subscribe(&alice, "home/#"));
}

#[test]
fn parse_errors_name_the_line() {
    for (text, line, needle) in [
        ("topic read a\ntopic sometimes b\n", 2, "unknown access"),
        ("\n\ntopic read a/#/b\n", 3, "not a valid topic filter"),
        ("user\n", 1, "needs a user name"),
        ("all the things\n", 1, "takes nothing"),
        ("topic read\n", 1, "expected `topic"),
        ("pattern read a\n", 1, "unknown directive"),
        ("address\n", 1, "`address` needs an address or a network"),
        ("\naddress 10.0.0.0/33\n", 2, "`address` needs"),
        ("address localhost\n", 1, "`address` needs"),
    ] {
        let e = Acl::parse(text, false).unwrap_err();
        let shown = e.to_string();
        assert!(shown.starts_with(&format!("line {line}: ")), "{shown}");
        assert!(shown.contains(needle), "{shown}");
    }
    let a = Acl::parse("# only comments\n\n   # indented\n", true).unwrap();
    assert!(a.is_empty());
    assert!(a.may_publish(&who(None, "c"), "x"));
}

#[test]
fn names_with_spaces_and_globs() {
    let g = |p: &str, t: &str| Glob(p.into()).matches(t);
    assert!(g("sensor-*", "sensor-1"));
    assert!(g("sensor-*", "sensor-"));
    assert!(!g("sensor-*", "sensor"));
    assert!(g("*", ""));
    assert!(g("a*b*c", "aXbYc"));
    assert!(g("a*b*c", "abc"));
    assert!(!g("a*a", "a"));
    assert!(g("*-admin", "x-admin"));
    assert!(!g("alice", "alice2"));
    assert!(g("CN=a b", "CN=a b"));
}

#[test]
fn topic_limits() {
    let limits = TopicLimits {
        read: vec![
            Pattern::new("news/#").unwrap(),
            Pattern::new("me/%u/+").unwrap(),
        ],
        write: vec![Pattern::new("me/%u/#").unwrap()],
    };
    let alice = who(Some("alice"), "c");
    assert!(limits.may_publish(&alice, "me/alice/x/y"));
    assert!(!limits.may_publish(&alice, "news/x"));
    assert!(limits.may_subscribe(&alice, "news/+"));
    assert!(limits.may_subscribe(&alice, "me/alice/inbox"));
    assert!(!limits.may_subscribe(&alice, "me/alice/#"));
    assert!(!TopicLimits::default().may_publish(&alice, "x"));
}
