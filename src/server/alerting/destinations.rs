//! Where webhooks may post: public addresses only, unless the operator allows private ones,
//! so an organization admin cannot make the server probe the network it runs in.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// True for an address on the public internet: not loopback, private, link-local, shared
/// (carrier-grade NAT), benchmarking (198.18.0.0/15), protocol assignments (192.0.0.0/24),
/// reserved (240.0.0.0/4), documentation, broadcast, multicast, unspecified, unique-local,
/// site-local (fec0::/10), nor an IPv6 address that carries an IPv4 one or tunnels to one
/// (IPv4-mapped and -compatible, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16,
/// Teredo 2001::/32).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || (a == 192 && b == 0 && c == 0))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let segments = v6.segments();
            let first = segments[0];
            let embeds_v4 = segments[..6].iter().all(|s| *s == 0);
            let nat64 =
                segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || segments[..3] == [0x64, 0xff9b, 1];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || embeds_v4
                || nat64
                || first == 0x2002
                || (first == 0x2001 && segments[1] == 0)
                || (first == 0x2001 && segments[1] == 0x0db8)
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0)
        }
    }
}

/// Why a URL's host may not be posted to, if it is an address literal that is not public.
pub fn refused_literal(url: &url::Url) -> Option<String> {
    let ip = match url.host()? {
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
        url::Host::Domain(_) => return None,
    };
    (!is_public(ip)).then(|| format!("refused: {ip} is a private address"))
}

/// Resolves host names to their public addresses only; a name with none fails.
#[derive(Clone, Copy, Debug, Default)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> =
                    format!("refused: {host} resolves only to private addresses").into();
                return Err(refused);
            }
            let addresses: Addrs = Box::new(public.into_iter());
            Ok(addresses)
        })
    }
}

/// The resolver for the webhook client.
pub fn resolver() -> Arc<PublicOnly> {
    Arc::new(PublicOnly)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::a00:1",
            "::10.0.0.1",
            "::8.8.8.8",
            "2002:7f00:1::1",
            "2001:0:4136:e378::1",
            "2001:db8::1",
            "fec0::1",
            "198.18.0.1",
            "198.19.255.254",
            "192.0.0.8",
            "240.0.0.1",
            "250.1.2.3",
        ] {
            assert!(!is_public(private.parse().expect("ip")), "{private}");
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "198.20.0.1",
            "192.0.1.1",
        ] {
            assert!(is_public(public.parse().expect("ip")), "{public}");
        }
    }

    #[test]
    fn address_literals_are_checked_and_names_left_to_the_resolver() {
        let url = |text: &str| url::Url::parse(text).expect("url");
        assert!(refused_literal(&url("http://127.0.0.1:8080/x")).is_some());
        assert!(refused_literal(&url("http://[::1]/x")).is_some());
        assert!(refused_literal(&url("https://1.1.1.1/x")).is_none());
        assert!(refused_literal(&url("https://hooks.example.com/x")).is_none());
    }
}
