//! Domains (an organization's apps) and the mailbox accounts inside them, parsed at the edge.

/// A domain name: lower case, at most 253 characters, two or more dot-separated labels of
/// 1–63 letters, digits or hyphens, none starting or ending with a hyphen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainName(String);

impl DomainName {
    pub fn parse(text: &str) -> Result<DomainName, String> {
        let name = text.trim().trim_end_matches('.').to_ascii_lowercase();
        let label_ok = |label: &str| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        let labels: Vec<&str> = name.split('.').collect();
        if name.len() <= 253 && labels.len() >= 2 && labels.iter().all(|l| label_ok(l)) {
            Ok(DomainName(name))
        } else {
            Err(format!(
                "{text:?} is not a domain name such as \"mail.example.com\""
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A mailbox address inside a given domain: `local@domain`, lower case, at most 320
/// characters, the local part 1–64 printable characters without spaces or `@`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxAddress(String);

impl MailboxAddress {
    pub fn parse_in(text: &str, domain: &str) -> Result<MailboxAddress, String> {
        let address = text.trim().to_lowercase();
        let Some((local, host)) = address.split_once('@') else {
            return Err(format!("{text:?} is not an e-mail address"));
        };
        let local_ok = (1..=64).contains(&local.chars().count())
            && local.chars().all(|c| c.is_ascii_graphic() && c != '@');
        if !local_ok || address.len() > 320 {
            return Err(format!("{text:?} is not an e-mail address"));
        }
        if host != domain {
            return Err(format!("{text:?} is not an address of the domain {domain}"));
        }
        Ok(MailboxAddress(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_are_lower_case_dotted_labels() {
        for (text, name) in [
            ("Acme.Example", "acme.example"),
            ("mail.acme-cloud.example.", "mail.acme-cloud.example"),
            (" x1.io ", "x1.io"),
        ] {
            assert_eq!(DomainName::parse(text).expect(text).as_str(), name);
        }
        let long_label = format!("{}.example", "a".repeat(64));
        for bad in [
            "localhost",
            "-acme.example",
            "acme-.example",
            "ac me.example",
            "",
            "a..b",
            &long_label,
        ] {
            assert!(DomainName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_account_must_be_an_address_of_its_domain() {
        let ok = MailboxAddress::parse_in("Contato@Acme.Example", "acme.example").expect("valid");
        assert_eq!(ok.as_str(), "contato@acme.example");
        for bad in [
            "contato",
            "@acme.example",
            "a b@acme.example",
            "contato@globex.example",
            "a@b@acme.example",
        ] {
            assert!(
                MailboxAddress::parse_in(bad, "acme.example").is_err(),
                "{bad}"
            );
        }
    }
}
