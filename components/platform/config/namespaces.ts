/** The `namespaces` config key: the app teams' namespaces, each with its owners, broker and quota. */
import { isDns1123Label } from "../../shared/names.ts";
import { SYSTEM_NAMESPACES, isSystemNamespace } from "../../shared/system-namespaces.ts";
import { type Field, type Json, type ValueOf, flag, quantity, section, wholeNumber } from "./schema.ts";

/** One app namespace's settings. */
export const NAMESPACE_SCHEMA = section("an app team's namespace", {
    group: {
        doc: "the identity-provider group whose members manage the namespace's Knative objects (required)",
        shown: undefined,
        read(problems, path, group): string {
            if (typeof group !== "string" || group === "") {
                problems.add(path, "must name the group that manages the namespace", group);
            }
            return group as string;
        },
    } satisfies Field<string>,
    broker: flag("whether the namespace gets a `default` Broker", true),
    cloudMetadata: flag(
        "whether its pods may reach the cloud's instance metadata endpoint, which GKE's Workload Identity serves pods' credentials from; otherwise a NetworkPolicy denies it, since it hands out the node's",
        false,
    ),
    quota: section("the namespace's ResourceQuota", {
        cpu: quantity("CPU requests of all its pods", "20", '"8" or "16Gi"'),
        memory: quantity("memory requests of all its pods", "40Gi", '"8" or "16Gi"'),
        pods: wholeNumber("pods", 200, 1),
    }),
});

/** An app team's namespace: its name and settings. */
export type AppNamespace = { name: string } & ValueOf<typeof NAMESPACE_SCHEMA.fields>;

export const NAMESPACES_SCHEMA: Field<AppNamespace[]> & { entry: typeof NAMESPACE_SCHEMA } = {
    doc: "the app teams' namespaces",
    shown: undefined,
    entry: NAMESPACE_SCHEMA,
    read(problems, path, value) {
        if (typeof value !== "object" || value === null || Array.isArray(value) || Object.keys(value).length === 0) {
            problems.add(
                path,
                "must map each app namespace to its settings ({ group, broker?, cloudMetadata?, quota? })",
                value,
            );
            return [];
        }
        return Object.entries(value as Record<string, Json | null>).map(([name, settings]) => {
            if (!isDns1123Label(name) || isSystemNamespace(name) || name === "default") {
                problems.add(
                    path,
                    "keys must be DNS-1123 labels, not default nor one of the platform's own namespaces " +
                        `(${SYSTEM_NAMESPACES.map((ns) => ns.name).join(", ")}, kube-*, knative-*, istio-*)`,
                    name,
                );
            }
            return { name, ...NAMESPACE_SCHEMA.read(problems, `${path}.${name}`, settings ?? {}) };
        });
    },
};
