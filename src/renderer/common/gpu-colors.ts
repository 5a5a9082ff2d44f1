/** One colour per GPU (by index, repeating), readable on the light and the dark theme; GPU and leaderboard charts. */
export const GPU_COLORS = ['#3b82f6', '#f97316', '#10b981', '#a855f7', '#ef4444', '#eab308', '#06b6d4', '#ec4899'];
