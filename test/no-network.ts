/**
 * Unit tests read nothing from the network (the brief's rule, and CI's machine may reach nothing): a fetch, the way
 * the program reads Knative's manifests, fails at once naming what asked, instead of depending on whether a release
 * download happens to answer. Tests pass the program their own manifests (test/stacks.ts TEST_MANIFESTS).
 */
globalThis.fetch = (input: string | URL | Request) =>
    Promise.reject(
        new Error(`unit tests read no network: a fetch of ${input instanceof Request ? input.url : String(input)}`),
    );
