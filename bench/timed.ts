/** The wall time of `work`, in seconds. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
    const start = performance.now();
    await work();
    return (performance.now() - start) / 1000;
}
