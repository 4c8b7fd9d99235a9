/**
 * The platform's policy pack: `pulumi preview --policy-pack policy
 * --policy-pack-config policy/config/<env>.json`. The same pack guards the
 * platform stack and every app stack.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies.ts";

new PolicyPack("serverless-platform", {
    // Mandatory unless an environment's config says otherwise: guardrails are the default.
    enforcementLevel: "mandatory",
    policies: POLICIES,
});
