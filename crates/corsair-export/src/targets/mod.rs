//! One module per target, each turning prepared routes into its syntax.

mod apache;
mod apigateway;
mod caddy;
mod envoy;
mod gateway_api;
mod haproxy;
mod kong;
mod nginx;
mod s3;
mod traefik;

use crate::{ExportError, Gap, Options, Prepared, Target};

/// Renders `routes` for `target`.
pub(crate) fn render(
    target: Target,
    routes: &[Prepared<'_>],
    options: &Options,
    gaps: &[Gap],
) -> Result<String, ExportError> {
    // The most specific prefix first, as corsair serve picks routes.
    let mut ordered: Vec<&Prepared<'_>> = routes.iter().collect();
    ordered.sort_by_key(|r| std::cmp::Reverse(r.route.path_prefix.as_ref().map_or(0, String::len)));
    match target {
        Target::Nginx => nginx::render(&ordered, options, gaps),
        Target::Haproxy => haproxy::render(&ordered, options, gaps),
        Target::Caddy => caddy::render(&ordered, options, gaps),
        Target::Apache => apache::render(&ordered, options, gaps),
        Target::Envoy => envoy::render(&ordered, options, gaps),
        Target::Traefik => traefik::render(&ordered, options, gaps),
        Target::Kong => kong::render(&ordered, options, gaps),
        Target::GatewayApi => gateway_api::render(&ordered, options, gaps),
        Target::S3 => s3::render(&ordered, options, gaps),
        Target::ApiGateway => apigateway::render(&ordered, options, gaps),
    }
}
