//! Browser profiles: every place where a browser engine departs from the
//! Fetch Standard, in one file.
//!
//! [`Profile::Spec`] follows the Fetch Standard to the letter. The other
//! profiles override single decisions; each override names its evidence
//! (the engine's source file and what it says) so that a conformance run
//! against the real browser can confirm or correct it here, without
//! touching the algorithms.

use serde::{Deserialize, Serialize};

/// Which browser's behaviour to model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// The WHATWG Fetch Standard exactly.
    Spec,
    /// Chromium (Chrome, Edge, Opera, Brave).
    #[default]
    Chromium,
    /// Firefox (Gecko).
    Firefox,
    /// WebKit (Safari).
    Webkit,
}

/// How a successful preflight updates existing cache entries for the same
/// origin and URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheUpdate {
    /// Fetch §4.9 "CORS-preflight fetch" steps 13-16: refresh matching
    /// entries and add new ones; entries for other methods and headers stay.
    Merge,
    /// Drop every entry for the origin and URL, then add the new ones.
    Replace,
}

/// Which cached `*` method or header entries count as a wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheWildcard {
    /// Every `*` entry (Fetch §4.9 "method cache entry match").
    Always,
    /// Only `*` entries stored from a preflight without credentials.
    WithoutCredentials,
    /// None: a cached `*` matches only a method or header named `*`.
    Never,
}

/// Default max-age when `Access-Control-Max-Age` is absent or invalid
/// (Fetch §4.9 "CORS-preflight fetch" step 10: 5 seconds).
pub const DEFAULT_MAX_AGE: u64 = 5;

impl Profile {
    /// All profiles, in display order.
    pub const ALL: [Profile; 4] = [
        Profile::Spec,
        Profile::Chromium,
        Profile::Firefox,
        Profile::Webkit,
    ];

    /// The lowercase name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Spec => "spec",
            Profile::Chromium => "chromium",
            Profile::Firefox => "firefox",
            Profile::Webkit => "webkit",
        }
    }

    /// Parses a profile name (`spec`, `chromium`/`chrome`, `firefox`,
    /// `webkit`/`safari`), ASCII case-insensitively.
    pub fn from_name(name: &str) -> Option<Profile> {
        match name.to_ascii_lowercase().as_str() {
            "spec" | "fetch" => Some(Profile::Spec),
            "chromium" | "chrome" | "edge" => Some(Profile::Chromium),
            "firefox" | "gecko" => Some(Profile::Firefox),
            "webkit" | "safari" => Some(Profile::Webkit),
            _ => None,
        }
    }

    /// The cap the browser imposes on a preflight cache entry's max-age, in
    /// seconds (Fetch §4.9 step 11 "an imposed limit"). `None`: no cap.
    ///
    /// - Chromium: 2 hours, `kMaxTimeout = base::Hours(2)` in
    ///   services/network/cors/preflight_result.cc.
    /// - Firefox: 24 hours, from corsair's browser anchors (shared/ANCHORS.md);
    ///   not yet checked against Gecko's nsCORSListenerProxy.cpp, and Gecko's
    ///   handling of invalid or negative values is modelled as the spec's.
    /// - WebKit: 10 minutes, `maxPreflightCacheTimeout = 600_s` in
    ///   Source/WebCore/loader/CrossOriginPreflightResultCache.cpp.
    pub fn max_age_cap(self) -> Option<u64> {
        match self {
            Profile::Spec => None,
            Profile::Chromium => Some(7200),
            Profile::Firefox => Some(86400),
            Profile::Webkit => Some(600),
        }
    }

    /// The effective cache lifetime in seconds given the
    /// `Access-Control-Max-Age` field values (`values` holds one entry per
    /// header line).
    ///
    /// Spec (Fetch §4.9 steps 8-11): the header is `delta-seconds`
    /// (`1*DIGIT`, one header only); failure or absence gives 5; then the
    /// cap applies.
    ///
    /// Deviations:
    /// - Chromium parses with `base::StringToInt64` (ParseAccessControlMaxAge
    ///   in services/network/cors/preflight_result.cc): a negative number
    ///   gives 0 ("the entry cannot be cached"), a number that does not fit
    ///   in an `int64_t` fails and gives the 5 s default. Several header
    ///   lines are joined with ", " by `net::HttpResponseHeaders`, which
    ///   then fails to parse, giving 5 s as in the spec.
    /// - WebKit parses with `parseInteger<int64_t>`
    ///   (CrossOriginPreflightResultCache.cpp): a negative number is
    ///   accepted, so the entry expires at once (0 here).
    ///
    /// corsair-conformance: `seq-max-age-negative` (`-1`) is cached for
    /// 5 s by the spec and not at all by Chromium, Firefox and WebKit;
    /// `seq-max-age-fraction` (`2.5`) gets the 5 s default in Chromium and
    /// WebKit and is not cached by Firefox, which stores nothing when the
    /// value is not all digits (0 here). Several header lines are modelled
    /// as the spec's failure (a joined value is not all digits either), and
    /// no scenario shows them.
    pub fn max_age(self, values: &[&[u8]]) -> u64 {
        let parsed: Option<u64> = match self {
            Profile::Spec => match values {
                [one] => parse_delta_seconds(one),
                _ => None,
            },
            Profile::Firefox => match values {
                [] => None,
                [one] => Some(parse_delta_seconds(one).unwrap_or(0)),
                _ => Some(0),
            },
            Profile::Chromium | Profile::Webkit => match values {
                [one] => parse_signed(one).map(|n| u64::try_from(n).unwrap_or(0)),
                _ => None,
            },
        };
        let age = match (values.is_empty(), parsed) {
            (true, _) | (false, None) => DEFAULT_MAX_AGE,
            (false, Some(n)) => n,
        };
        match self.max_age_cap() {
            Some(cap) => age.min(cap),
            None => age,
        }
    }

    /// How a successful preflight updates the cache.
    ///
    /// Chromium keeps one `PreflightResult` per origin and URL and
    /// overwrites it (`PreflightCache::AppendEntry` assigns
    /// `cache_[key][url] = result` in
    /// services/network/cors/preflight_cache.cc), so a later preflight
    /// that allows fewer methods forgets the earlier ones. WebKit does the
    /// same (`CrossOriginPreflightResultCache::appendEntry` sets the map
    /// entry). The spec and Gecko merge.
    pub fn cache_update(self) -> CacheUpdate {
        match self {
            Profile::Spec | Profile::Firefox => CacheUpdate::Merge,
            Profile::Chromium | Profile::Webkit => CacheUpdate::Replace,
        }
    }

    /// Which cached `*` entries count as a wildcard.
    ///
    /// The spec's "method cache entry match" and "header-name cache entry
    /// match" take any `*` entry, even one stored from a credentialed
    /// preflight, where `*` was a literal name.
    ///
    /// - Chromium and WebKit honour `*` only for results stored without
    ///   credentials (Chromium `PreflightResult::EnsureAllowedCrossOriginMethod`:
    ///   `if (!credentials_ && methods_.find("*") ...)`). corsair-conformance:
    ///   `seq-star-method-incl`, `seq-star-header-incl` preflight again and
    ///   fail; `seq-star-method-omit`, `seq-star-header-omit` are served from
    ///   the cache.
    /// - Firefox never does: `nsPreflightCache::CacheEntry::CheckRequest`
    ///   (netwerk/protocol/http/nsCORSListenerProxy.cpp) compares method and
    ///   header tokens literally, so `seq-star-method-omit` and
    ///   `seq-star-header-omit` preflight again (and pass).
    pub fn cache_wildcard(self) -> CacheWildcard {
        match self {
            Profile::Spec => CacheWildcard::Always,
            Profile::Chromium | Profile::Webkit => CacheWildcard::WithoutCredentials,
            Profile::Firefox => CacheWildcard::Never,
        }
    }

    /// Whether a cache entry serves only requests of its own credentials
    /// mode. The spec's "cache entry match" lets an entry stored with
    /// credentials serve a request without them.
    ///
    /// Firefox keys its entries by credentials (`nsPreflightCache::GetEntry`
    /// takes `aWithCredentials` into the key): `seq-incl-then-omit`
    /// preflights again in Firefox and is served from the cache in Chromium
    /// and WebKit. Every engine preflights again the other way round
    /// (`seq-omit-then-incl`), as the spec says.
    pub fn cache_credentials_exact(self) -> bool {
        matches!(self, Profile::Firefox)
    }

    /// Whether the preflight's status is judged before its CORS check
    /// (this only changes which error is reported, never the verdict).
    ///
    /// - Chromium checks access first and reports a status problem only
    ///   when the CORS headers pass (`CheckPreflightAccess` then
    ///   `kPreflightInvalidStatus` in services/network/cors/cors_url_loader
    ///   and preflight_controller.cc), so a 404 without CORS headers is
    ///   reported as a missing `Access-Control-Allow-Origin`.
    /// - Firefox too: a preflight answered 404 without CORS headers is
    ///   reported as `CORS header 'Access-Control-Allow-Origin' missing`
    ///   (corsair-conformance `hw-preflight-404-without-cors`).
    /// - WebKit's `validatePreflightResponse` (CrossOriginAccessControl.cpp)
    ///   tests `response.isSuccessful()` first ("Preflight response is not
    ///   successful"). No scenario shows it: WebKit's console cannot be read
    ///   by the conformance suite (its README says why).
    pub fn preflight_status_first(self) -> bool {
        matches!(self, Profile::Webkit)
    }

    /// Whether `Access-Control-Allow-Headers: *` (honoured only without
    /// credentials) also covers `Authorization`.
    ///
    /// Spec (Fetch §4.9 step 7.6, "CORS non-wildcard request-header name"):
    /// never; `Authorization` must be listed by name.
    ///
    /// Chromium: yes. `PreflightResult::EnsureAllowedCrossOriginHeaders`
    /// (services/network/cors/preflight_result.cc) returns "allowed" as soon
    /// as a non-credentialed result holds `*`; its `Authorization` test
    /// runs only under `NonWildcardRequestHeadersSupport`, which Chromium
    /// 156 does not enable. Observed in corsair-conformance:
    /// `pf-get-auth-acah-star-omit`, `pf-get-auth-star-same`,
    /// `pf-put-json-auth-star-omit` and `hw-acah-star-with-authorization`
    /// are allowed with a plain `*`. The same function judges cached
    /// entries, so a cached `*` covers it too.
    ///
    /// Firefox: yes, through the pref
    /// `network.cors_preflight.authorization_covered_by_wildcard`, on by
    /// default in Firefox ESR 153. Observed in corsair-conformance:
    /// `pf-get-auth-star-omit`, `pf-get-auth-acah-star-same` and
    /// `pf-put-json-auth-star-omit` are allowed in Firefox.
    ///
    /// WebKit: yes too (WebKitGTK 2.50, no switch), the same scenarios.
    ///
    /// Not modelled, because it changes only the console message: when
    /// several request headers are missing from the list, Chromium names
    /// the first in its own header-map order (Blink hands the headers over
    /// through a hash map), not the first of the sorted list Fetch walks:
    /// `pf-get-two-acah-missing-omit` (`X-Zeta`, `x-alpha`) names `x-zeta`,
    /// `pf-put-json-auth-acah-missing-omit` (`content-type`,
    /// `Authorization`) names `authorization`. corsair-conformance leaves
    /// the console of that case uncompared.
    pub fn wildcard_covers_authorization(self) -> bool {
        !matches!(self, Profile::Spec)
    }

    /// Whether a preflight sent after a cross-origin redirect carries the
    /// page's own origin rather than the tainted `null` (Fetch §3.1.6
    /// "serializing a request origin" gives `null` to every request of a
    /// redirect-tainted chain, the preflight included).
    ///
    /// Firefox sends, and checks the answer against, the page's origin on
    /// that preflight, while the actual request after it carries
    /// `Origin: null` (Gecko builds the preflight channel from the loading
    /// principal). Observed in corsair-conformance:
    /// `rd-cross-put-301-to-page-omit`, `rd-cross-put-302-to-cross-host-omit`.
    pub fn preflight_origin_untainted(self) -> bool {
        matches!(self, Profile::Firefox)
    }

    /// Whether a request that needed a preflight keeps needing one after a
    /// redirect, even when it has become simple (a `303` turns `PUT` into
    /// `GET`). Fetch §4.1 "main fetch" decides afresh on every hop.
    ///
    /// Firefox preflights the redirected request again (Gecko keeps the
    /// channel's forced-preflight flag across redirects). Observed in
    /// corsair-conformance: `rd-cross-put-303-to-cross-omit`,
    /// `rd-cross-put-303-to-cross-host-incl` send `OPTIONS` with
    /// `Access-Control-Request-Method: GET` before the `GET`. WebKit does
    /// the same (WebKitGTK 2.50, the same scenarios), with the tainted
    /// `Origin: null` where Fetch says.
    pub fn preflight_sticks_across_redirects(self) -> bool {
        matches!(self, Profile::Firefox | Profile::Webkit)
    }

    /// Whether a same-origin request redirected to a cross-origin URL with
    /// credentials (`user:pass@`) sends that URL's preflight before it is
    /// refused (Fetch §4.4 step 10 refuses at the redirect).
    ///
    /// WebKit does (WebKitGTK 2.50: `rd-page-put-301-to-userinfo-omit`,
    /// `rd-page-put-307-to-userinfo-incl` send `OPTIONS` to the new host,
    /// then fail); a chain already cross-origin is refused at the redirect
    /// (`rd-cross-put-301-to-userinfo-omit`).
    pub fn userinfo_checked_after_preflight(self) -> bool {
        matches!(self, Profile::Webkit)
    }

    /// Whether a request that carried `Origin` keeps it after a redirect
    /// even where Fetch §3.1.6 adds none (a same-origin `GET` after a `303`
    /// turned a `PUT` into one).
    ///
    /// WebKit keeps the header (WebKitGTK 2.50:
    /// `rd-page-put-303-to-page-omit` sends `Origin` on the `GET`).
    pub fn keeps_origin_across_redirects(self) -> bool {
        matches!(self, Profile::Webkit)
    }

    /// Extra request headers this browser treats as CORS-safelisted, beyond
    /// Fetch §2.2.2. `Some(verdict)` when the profile decides for `name`
    /// (lowercase), `None` to use the spec rule.
    ///
    /// Chromium safelists the script-settable client-hint headers with a
    /// value check (`IsCorsSafelistedHeader` in
    /// services/network/public/cpp/cors/cors.cc: `device-memory` and `dpr`
    /// must match `1*DIGIT [ "." 1*DIGIT ]`, `width` and `viewport-width`
    /// `1*DIGIT`, `save-data` must be `on`), and lowercases a `Range`
    /// value before parsing it, so `BYTES=0-1` is safelisted.
    pub fn safelisted_request_header(self, name: &str, value: &[u8]) -> Option<bool> {
        if self != Profile::Chromium {
            return None;
        }
        match name {
            "device-memory" | "dpr" => Some(is_decimal(value)),
            "width" | "viewport-width" => {
                Some(!value.is_empty() && value.iter().all(u8::is_ascii_digit))
            }
            "save-data" => Some(value.eq_ignore_ascii_case(b"on")),
            "range" => {
                let lower = value.to_ascii_lowercase();
                Some(super::safelist::is_safelisted_range(&lower))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::from_name(s).ok_or_else(|| {
            format!("unknown browser `{s}`: use one of chromium, firefox, webkit, spec")
        })
    }
}

/// RFC 9111 §1.2.2 `delta-seconds = 1*DIGIT` after trimming optional
/// whitespace; saturates at `u64::MAX` as the RFC allows.
fn parse_delta_seconds(v: &[u8]) -> Option<u64> {
    let v = trim_ows(v);
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

/// An optionally negative decimal that fits in `i64` (the
/// `StringToInt64`/`parseInteger<int64_t>` engines use).
fn parse_signed(v: &[u8]) -> Option<i64> {
    std::str::from_utf8(trim_ows(v)).ok()?.parse::<i64>().ok()
}

fn is_decimal(v: &[u8]) -> bool {
    let mut parts = v.splitn(2, |&b| b == b'.');
    let int = parts.next().unwrap_or_default();
    let ok_int = !int.is_empty() && int.iter().all(u8::is_ascii_digit);
    match parts.next() {
        None => ok_int,
        Some(frac) => ok_int && !frac.is_empty() && frac.iter().all(u8::is_ascii_digit),
    }
}

pub(crate) fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |i| i + 1);
    &v[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_per_profile() {
        use Profile::*;
        // (profile, header lines, expected seconds)
        let cases: &[(Profile, &[&[u8]], u64)] = &[
            (Spec, &[], 5),
            (Spec, &[b"600"], 600),
            (Spec, &[b"100000"], 100000),
            (Spec, &[b"-1"], 5),
            (Spec, &[b"1.5"], 5),
            (Spec, &[b"10", b"20"], 5),
            (Spec, &[b" 30 "], 30),
            (Chromium, &[b"100000"], 7200),
            (Chromium, &[b"7199"], 7199),
            (Chromium, &[b"-1"], 0),
            (Chromium, &[b"abc"], 5),
            (Chromium, &[b"99999999999999999999"], 5),
            (Chromium, &[], 5),
            (Firefox, &[b"100000"], 86400),
            (Firefox, &[b"-1"], 0),
            (Firefox, &[b"2.5"], 0),
            (Firefox, &[], 5),
            (Firefox, &[b" 30 "], 30),
            (Webkit, &[b"100000"], 600),
            (Webkit, &[b"-5"], 0),
            (Webkit, &[b"x"], 5),
        ];
        for (p, lines, want) in cases {
            assert_eq!(p.max_age(lines), *want, "{p} {lines:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for p in Profile::ALL {
            assert_eq!(Profile::from_name(p.name()), Some(p));
        }
        assert_eq!(Profile::from_name("Safari"), Some(Profile::Webkit));
        assert!("opera".parse::<Profile>().is_err());
    }

    #[test]
    fn chromium_client_hints() {
        let c = Profile::Chromium;
        assert_eq!(c.safelisted_request_header("dpr", b"2.5"), Some(true));
        assert_eq!(c.safelisted_request_header("dpr", b"2."), Some(false));
        assert_eq!(c.safelisted_request_header("width", b"640"), Some(true));
        assert_eq!(c.safelisted_request_header("width", b"6a"), Some(false));
        assert_eq!(c.safelisted_request_header("save-data", b"on"), Some(true));
        assert_eq!(c.safelisted_request_header("x-foo", b"on"), None);
        assert_eq!(Profile::Spec.safelisted_request_header("dpr", b"2"), None);
        assert_eq!(
            c.safelisted_request_header("range", b"BYTES=0-1"),
            Some(true)
        );
    }
}
