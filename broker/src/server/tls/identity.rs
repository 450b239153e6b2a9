//! The identity a verified client certificate gives: its subject as RFC 4514 text, its Common
//! Name, and its Subject Alternative Names, from which `identity_as_username` picks the MQTT
//! user name.
//!
//! The certificate reaching here has been verified by rustls against the listener's client
//! CA, so it is well-formed DER; a part that still does not parse (an exotic string type, a
//! broken extension) is left out rather than trusted.

use bytestring::ByteString;
use x509_parser::extensions::GeneralName;
use x509_parser::x509::AttributeTypeAndValue;

use crate::engine::CertLogin;
use crate::server::options::CertIdentity;

/// What a client certificate says about who holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerCert {
    /// The subject, RFC 4514: most significant RDN last, `CN=alice,O=Example`.
    pub subject: String,
    /// The first Common Name of the subject.
    pub common_name: Option<String>,
    /// The DNS names, e-mail addresses and URIs among the Subject Alternative Names, in the
    /// certificate's order.
    pub sans: Vec<String>,
}

impl PeerCert {
    /// Reads the end-entity certificate `der`.
    pub fn parse(der: &[u8]) -> Result<PeerCert, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| format!("the client certificate does not parse: {e}"))?;
        let subject = rfc4514(cert.subject());
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned);
        let sans = match cert.subject_alternative_name() {
            Ok(Some(ext)) => ext
                .value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(s) | GeneralName::RFC822Name(s) | GeneralName::URI(s) => {
                        Some((*s).to_owned())
                    }
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(PeerCert {
            subject,
            common_name,
            sans,
        })
    }

    /// What the certificate does to the CONNECT's user name on a listener whose
    /// `identity_as_username` is `mode`.
    pub fn login(&self, mode: Option<CertIdentity>) -> CertLogin {
        let user = match mode {
            None => return CertLogin::Off,
            Some(CertIdentity::Cn) => self.common_name.as_deref().ok_or("Common Name"),
            Some(CertIdentity::Subject) => Some(self.subject.as_str())
                .filter(|s| !s.is_empty())
                .ok_or("subject"),
            Some(CertIdentity::San) => self
                .sans
                .first()
                .map(String::as_str)
                .ok_or("DNS, e-mail or URI Subject Alternative Name"),
        };
        match user {
            Ok(user) if !user.is_empty() => CertLogin::User(ByteString::from(user)),
            Ok(_) => CertLogin::Missing("non-empty identity"),
            Err(field) => CertLogin::Missing(field),
        }
    }
}

/// The RFC 4514 string of a distinguished name: RDNs from the last to the first, separated by
/// commas, multi-valued RDNs joined by `+`.
fn rfc4514(name: &x509_parser::x509::X509Name<'_>) -> String {
    let rdns: Vec<&_> = name.iter().collect();
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attr) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            push_attribute(&mut out, attr);
        }
    }
    out
}

/// `TYPE=value`: the short name of RFC 4514 section 3 where there is one, else the dotted
/// OID; a text value escaped as section 2.4 says, any other value as `#` and hex.
fn push_attribute(out: &mut String, attr: &AttributeTypeAndValue<'_>) {
    let oid = attr.attr_type().to_id_string();
    let name = match oid.as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        other => other,
    };
    out.push_str(name);
    out.push('=');
    match attr.as_str() {
        Ok(text) => escape(out, text),
        Err(_) => {
            out.push('#');
            for b in attr.as_slice() {
                out.push_str(&format!("{b:02x}"));
            }
        }
    }
}

/// Escapes a value per RFC 4514 section 2.4.
fn escape(out: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};

    fn cert(build: impl FnOnce(&mut CertificateParams)) -> PeerCert {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        build(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        PeerCert::parse(cert.der()).unwrap()
    }

    #[test]
    fn subject_is_rfc4514_most_significant_last() {
        let c = cert(|p| {
            p.distinguished_name.push(DnType::CountryName, "FR");
            p.distinguished_name
                .push(DnType::OrganizationName, "Example, Inc.");
            p.distinguished_name.push(DnType::CommonName, "alice");
            p.subject_alt_names = vec![
                SanType::IpAddress("127.0.0.1".parse().unwrap()),
                SanType::DnsName("alice.example".try_into().unwrap()),
                SanType::Rfc822Name("alice@example.org".try_into().unwrap()),
            ];
        });
        assert_eq!(c.subject, "CN=alice,O=Example\\, Inc.,C=FR");
        assert_eq!(c.common_name.as_deref(), Some("alice"));
        assert_eq!(c.sans, ["alice.example", "alice@example.org"]);
        let user = |m| match c.login(Some(m)) {
            CertLogin::User(u) => u.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(user(CertIdentity::Cn), "alice");
        assert_eq!(user(CertIdentity::San), "alice.example");
        assert_eq!(
            user(CertIdentity::Subject),
            "CN=alice,O=Example\\, Inc.,C=FR"
        );
        assert_eq!(c.login(None), CertLogin::Off);
    }

    #[test]
    fn a_missing_field_is_named() {
        let c = cert(|p| {
            p.distinguished_name.push(DnType::OrganizationName, "#a b ");
        });
        assert_eq!(c.subject, "O=\\#a b\\ ");
        assert!(
            matches!(c.login(Some(CertIdentity::Cn)), CertLogin::Missing(f) if f.contains("Common Name"))
        );
        assert!(matches!(
            c.login(Some(CertIdentity::San)),
            CertLogin::Missing(_)
        ));
        let empty = cert(|_| {});
        assert_eq!(empty.subject, "");
        assert!(matches!(
            empty.login(Some(CertIdentity::Subject)),
            CertLogin::Missing(_)
        ));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(PeerCert::parse(&[]).is_err());
        assert!(PeerCert::parse(&[0x30, 0x03, 0x02, 0x01]).is_err());
    }
}
