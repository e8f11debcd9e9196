//! The CORS-preflight cache (Fetch §4.9 "CORS-preflight cache") as a pure
//! data structure: the caller passes the current time in.
//!
//! Times are [`Duration`]s since any epoch the caller picks (a test clock,
//! `Instant` differences, Unix time); only differences matter.

use super::profile::{CacheUpdate, CacheWildcard, Profile};
use serde::Serialize;
use std::time::Duration;

/// What a cache entry is for (Fetch §4.9: key, byte-serialized origin,
/// URL, credentials).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CacheKey {
    /// The network partition key (Fetch §2.7), normally the top-level site.
    pub partition: String,
    /// The byte-serialized request origin (`null` when redirect-tainted).
    pub origin: String,
    /// The request's current URL, serialized.
    pub url: String,
    /// Whether the request's credentials mode is `include`.
    pub credentials: bool,
}

/// Fetch §4.9 "cache entry": a method or a header name that a preflight
/// allowed, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheEntry {
    /// Partition, origin, URL, credentials.
    pub key: CacheKey,
    /// The method allowed (`*` included), or `None` for a header entry.
    pub method: Option<String>,
    /// The header name allowed, lowercase (`*` included), or `None` for a
    /// method entry.
    pub header_name: Option<String>,
    /// Lifetime in seconds.
    pub max_age: u64,
    /// When it was stored.
    #[serde(skip)]
    pub stored_at: Duration,
}

impl CacheEntry {
    fn expired(&self, now: Duration) -> bool {
        now >= self
            .stored_at
            .saturating_add(Duration::from_secs(self.max_age))
    }
}

/// The user agent's CORS-preflight cache.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PreflightCache {
    entries: Vec<CacheEntry>,
}

impl PreflightCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The live entries.
    pub fn entries(&self) -> &[CacheEntry] {
        &self.entries
    }

    /// Removes expired entries (Fetch §4.9: "must be removed after the
    /// seconds specified in their max-age field have passed").
    pub fn purge(&mut self, now: Duration) {
        self.entries.retain(|e| !e.expired(now));
    }

    /// Fetch §4.9 "cache entry match": same partition, origin and URL, and
    /// the entry has credentials or the request does not (the same
    /// credentials under [`Profile::cache_credentials_exact`]).
    fn matches(profile: Profile, entry: &CacheEntry, key: &CacheKey, now: Duration) -> bool {
        let credentials = if profile.cache_credentials_exact() {
            entry.key.credentials == key.credentials
        } else {
            entry.key.credentials || !key.credentials
        };
        !entry.expired(now)
            && entry.key.partition == key.partition
            && entry.key.origin == key.origin
            && entry.key.url == key.url
            && credentials
    }

    /// Whether a cached `*` counts as a wildcard under `profile`.
    fn wildcard(profile: Profile, entry: &CacheEntry) -> bool {
        match profile.cache_wildcard() {
            CacheWildcard::Always => true,
            CacheWildcard::WithoutCredentials => !entry.key.credentials,
            CacheWildcard::Never => false,
        }
    }

    /// Fetch §4.9 "method cache entry match": an entry for `method` or `*`.
    /// A `*` entry counts as [`Profile::cache_wildcard`] says.
    pub fn method_match(
        &self,
        profile: Profile,
        key: &CacheKey,
        method: &str,
        now: Duration,
    ) -> bool {
        self.entries.iter().any(|e| {
            Self::matches(profile, e, key, now)
                && match e.method.as_deref() {
                    Some(m) if m == method => true,
                    Some("*") => Self::wildcard(profile, e),
                    _ => false,
                }
        })
    }

    /// Fetch §4.9 "header-name cache entry match": an entry for the name
    /// (case-insensitive), or `*` unless the name is `Authorization`.
    pub fn header_match(
        &self,
        profile: Profile,
        key: &CacheKey,
        name: &str,
        now: Duration,
    ) -> bool {
        self.entries.iter().any(|e| {
            Self::matches(profile, e, key, now)
                && match e.header_name.as_deref() {
                    Some("*") => {
                        let authorization =
                            super::safelist::is_cors_non_wildcard_request_header_name(name)
                                && !profile.wildcard_covers_authorization();
                        !authorization && Self::wildcard(profile, e)
                    }
                    Some(h) => h.eq_ignore_ascii_case(name),
                    None => false,
                }
        })
    }

    /// Stores what a successful preflight allowed (Fetch §4.9 steps
    /// 13-16), merging or replacing per [`Profile::cache_update`].
    pub fn store(
        &mut self,
        profile: Profile,
        key: &CacheKey,
        methods: &[String],
        header_names: &[String],
        max_age: u64,
        now: Duration,
    ) {
        if profile.cache_update() == CacheUpdate::Replace {
            self.clear(key);
        }
        for m in methods {
            self.upsert(key, Some(m.clone()), None, max_age, now);
        }
        for h in header_names {
            self.upsert(key, None, Some(h.to_ascii_lowercase()), max_age, now);
        }
    }

    fn upsert(
        &mut self,
        key: &CacheKey,
        method: Option<String>,
        header: Option<String>,
        max_age: u64,
        now: Duration,
    ) {
        // "For each method ... for which there is a method cache entry
        // match, set matching entry's max-age": refresh its lifetime too.
        let existing = self.entries.iter_mut().find(|e| {
            e.key.partition == key.partition
                && e.key.origin == key.origin
                && e.key.url == key.url
                && e.key.credentials == key.credentials
                && e.method == method
                && e.header_name == header
        });
        match existing {
            Some(e) => {
                e.max_age = max_age;
                e.stored_at = now;
            }
            None => self.entries.push(CacheEntry {
                key: key.clone(),
                method,
                header_name: header,
                max_age,
                stored_at: now,
            }),
        }
    }

    /// Fetch §4.9 "clear cache entries": removes every entry for the
    /// partition, origin and URL (whatever the credentials).
    pub fn clear(&mut self, key: &CacheKey) {
        self.entries.retain(|e| {
            !(e.key.partition == key.partition
                && e.key.origin == key.origin
                && e.key.url == key.url)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(cred: bool) -> CacheKey {
        CacheKey {
            partition: "https://app.example".into(),
            origin: "https://app.example".into(),
            url: "https://api.example/x".into(),
            credentials: cred,
        }
    }
    const T0: Duration = Duration::from_secs(1000);
    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn expiry_and_matching() {
        let mut c = PreflightCache::new();
        c.store(
            Profile::Spec,
            &key(false),
            &s(&["PUT"]),
            &s(&["X-A"]),
            10,
            T0,
        );
        let p = Profile::Spec;
        assert!(c.method_match(p, &key(false), "PUT", T0 + Duration::from_secs(9)));
        assert!(!c.method_match(p, &key(false), "PUT", T0 + Duration::from_secs(10)));
        assert!(!c.method_match(p, &key(false), "put", T0));
        assert!(c.header_match(p, &key(false), "x-a", T0));
        // An entry without credentials does not serve a credentialed request...
        assert!(!c.method_match(p, &key(true), "PUT", T0));
        // ...but a credentialed entry serves both.
        c.store(p, &key(true), &s(&["DELETE"]), &[], 10, T0);
        assert!(c.method_match(p, &key(false), "DELETE", T0));
        let mut other = key(false);
        other.url = "https://api.example/y".into();
        assert!(!c.method_match(p, &other, "PUT", T0));
        c.purge(T0 + Duration::from_secs(11));
        assert!(c.entries().is_empty());
    }

    #[test]
    fn wildcards() {
        let mut c = PreflightCache::new();
        c.store(Profile::Spec, &key(false), &s(&["*"]), &s(&["*"]), 60, T0);
        assert!(c.method_match(Profile::Spec, &key(false), "PATCH", T0));
        assert!(c.header_match(Profile::Spec, &key(false), "x-anything", T0));
        assert!(!c.header_match(Profile::Spec, &key(false), "Authorization", T0));
        // Chromium's cached `*` covers Authorization without credentials
        // (Profile::wildcard_covers_authorization).
        let mut c = PreflightCache::new();
        c.store(Profile::Chromium, &key(false), &s(&[]), &s(&["*"]), 60, T0);
        assert!(c.header_match(Profile::Chromium, &key(false), "Authorization", T0));
        c.store(Profile::Spec, &key(false), &s(&[]), &s(&["*"]), 60, T0);
        assert!(!c.header_match(Profile::Spec, &key(false), "Authorization", T0));
        let mut c = PreflightCache::new();
        c.store(
            Profile::Chromium,
            &key(true),
            &s(&["*"]),
            &s(&["*"]),
            60,
            T0,
        );
        assert!(!c.method_match(Profile::Chromium, &key(true), "PATCH", T0));
        assert!(c.method_match(Profile::Spec, &key(true), "PATCH", T0));
        // Firefox compares cached tokens literally.
        let mut c = PreflightCache::new();
        let ff = Profile::Firefox;
        c.store(ff, &key(false), &s(&["*"]), &s(&["*"]), 60, T0);
        assert!(!c.method_match(ff, &key(false), "PATCH", T0));
        assert!(!c.header_match(ff, &key(false), "x-a", T0));
        assert!(c.method_match(ff, &key(false), "*", T0));
    }

    #[test]
    fn firefox_keys_entries_by_credentials() {
        let mut c = PreflightCache::new();
        for p in [Profile::Spec, Profile::Firefox] {
            c.store(p, &key(true), &s(&["PUT"]), &[], 60, T0);
        }
        assert!(c.method_match(Profile::Spec, &key(false), "PUT", T0));
        assert!(!c.method_match(Profile::Firefox, &key(false), "PUT", T0));
        assert!(c.method_match(Profile::Firefox, &key(true), "PUT", T0));
    }

    #[test]
    fn merge_versus_replace() {
        for (profile, keeps_put) in [
            (Profile::Spec, true),
            (Profile::Chromium, false),
            (Profile::Webkit, false),
            (Profile::Firefox, true),
        ] {
            let mut c = PreflightCache::new();
            c.store(profile, &key(false), &s(&["PUT"]), &[], 60, T0);
            c.store(profile, &key(false), &s(&["DELETE"]), &[], 60, T0);
            assert_eq!(
                c.method_match(profile, &key(false), "PUT", T0),
                keeps_put,
                "{profile}"
            );
            assert!(c.method_match(profile, &key(false), "DELETE", T0));
        }
    }

    #[test]
    fn refresh_and_clear() {
        let mut c = PreflightCache::new();
        c.store(Profile::Spec, &key(false), &s(&["PUT"]), &[], 10, T0);
        c.store(
            Profile::Spec,
            &key(false),
            &s(&["PUT"]),
            &[],
            100,
            T0 + Duration::from_secs(5),
        );
        assert_eq!(c.entries().len(), 1);
        assert!(c.method_match(
            Profile::Spec,
            &key(false),
            "PUT",
            T0 + Duration::from_secs(50)
        ));
        c.clear(&key(true));
        assert!(c.entries().is_empty());
    }
}
