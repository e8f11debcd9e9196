// Validates an HTTPRoute (JSON on stdin) against the Gateway API CRD's
// OpenAPI schema, compiled by @kubernetes-models/gateway-api. Prints
// "valid", or "invalid: <errors>" and exits 1.
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { readFileSync } from "node:fs";

const route = JSON.parse(readFileSync(0, "utf8"));
try {
  new HTTPRoute(route).validate();
  console.log("valid");
} catch (e) {
  console.log(`invalid: ${e.message}`);
  process.exit(1);
}
