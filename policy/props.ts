/** A resource's properties, or a part of them, as the policy SDK hands them: JSON of any shape. */
export type Props = Record<string, unknown>;

/** The value at `path` below `value`, or undefined where the path leaves the objects. */
export function at(value: unknown, ...path: string[]): unknown {
    let current = value;
    for (const key of path) {
        if (typeof current !== "object" || current === null) return undefined;
        current = (current as Props)[key];
    }
    return current;
}

/** The object at `path` below `value`, or undefined. */
export function objectAt(value: unknown, ...path: string[]): Props | undefined {
    const found = at(value, ...path);
    return typeof found === "object" && found !== null && !Array.isArray(found) ? (found as Props) : undefined;
}
