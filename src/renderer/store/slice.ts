/** How a slice changes itself without knowing the whole store: apply a function to its current value. */
export type SliceUpdate<S> = (change: (slice: S) => S) => void;
export type SliceRead<S> = () => S;
