//! The targets [`crate::export`] writes and [`crate::import`] reads.

use std::fmt;
use std::str::FromStr;

/// An engine that can enforce a CORS policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// nginx (`nginx -p DIR -c FILE`).
    Nginx,
    /// HAProxy 2.2 or later (`haproxy -f FILE`).
    Haproxy,
    /// Caddy 2, Caddyfile (`caddy run --adapter caddyfile --config FILE`).
    Caddy,
    /// Apache httpd 2.4 with mod_headers, mod_rewrite and mod_proxy
    /// (`apache2 -f FILE`).
    Apache,
    /// Envoy: the `envoy.filters.http.cors` filter and a route's
    /// `typed_per_filter_config` `CorsPolicy`.
    Envoy,
    /// Traefik: a `headers` middleware, dynamic configuration.
    Traefik,
    /// Kong: the `cors` plugin, declarative configuration.
    Kong,
    /// Kubernetes Gateway API: an `HTTPRoute` with the `CORS` filter.
    GatewayApi,
    /// Amazon S3: the bucket CORS configuration `put-bucket-cors` takes.
    S3,
    /// Amazon API Gateway: an HTTP API's `CorsConfiguration`.
    ApiGateway,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 10] = [
        Target::Nginx,
        Target::Haproxy,
        Target::Caddy,
        Target::Apache,
        Target::Envoy,
        Target::Traefik,
        Target::Kong,
        Target::GatewayApi,
        Target::S3,
        Target::ApiGateway,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Nginx => "nginx",
            Target::Haproxy => "haproxy",
            Target::Caddy => "caddy",
            Target::Apache => "apache",
            Target::Envoy => "envoy",
            Target::Traefik => "traefik",
            Target::Kong => "kong",
            Target::GatewayApi => "gateway-api",
            Target::S3 => "s3",
            Target::ApiGateway => "apigateway",
        }
    }

    /// Whether the export is a whole server config that proxies to an
    /// upstream (else a fragment of the target's own configuration).
    pub fn is_proxy(self) -> bool {
        matches!(
            self,
            Target::Nginx | Target::Haproxy | Target::Caddy | Target::Apache
        )
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Target::ALL
            .into_iter()
            .find(|t| t.name() == lower || (lower == "gateway" && *t == Target::GatewayApi))
            .ok_or_else(|| {
                let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
                format!("unknown target `{s}`: use one of {}", names.join(", "))
            })
    }
}
