/**
 * PostTrainBench's baseline scores (fractions, 0..1), as published; data, not configuration. The leaderboard derives
 * the benchmark weights from them (`ptb-score.ts`), falls back to a base model's zero-shot score for a failed or
 * flagged cell, and shows the reference rows (base zero-shot, base few-shot, official instruct models).
 *
 * - {@link AGGREGATED_BASELINE}: aisa-group/posttrainbench-website `data/aggregated_baseline.csv` (49cdae1c), the
 *   file `scripts/aggregate_final.py` reads as `aggregated_baseline_zeroshot.csv` and
 *   `scripts/compute_baseline_metrics.py` reads as `aggregated_baseline.csv`: the base models zero-shot and the
 *   instruct models, all 7 benchmarks. The harness's `scripts/baselines.json` holds the same numbers for 6 of them
 *   (no BFCL); test/unit/shared/leaderboard checks both files against this table.
 * - {@link AGGREGATED_BASELINE_FEWSHOT}: the same repository's `data/aggregated_baseline_fewshot.csv` (c23cf9da): the
 *   base models few-shot (`baselines.json` `fewshot`, plus BFCL).
 */

export type BaselineTable = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** Each base model's official instruct model, as the baseline tables name both. */
export const INSTRUCT_MODEL_OF: Readonly<Record<string, string>> = {
  'Qwen3-1.7B-Base': 'Qwen3-1.7B',
  'Qwen3-4B-Base': 'Qwen3-4B',
  'SmolLM3-3B-Base': 'SmolLM3-3B',
  'gemma-3-4b-pt': 'gemma-3-4b-it',
};

/** Base models zero-shot and the official instruct models. */
export const AGGREGATED_BASELINE: BaselineTable = {
  'Qwen3-1.7B': {
    aime2025: 0.26666666666666666,
    arenahardwriting: 0.5,
    bfcl: 0.94,
    gpqamain: 0.3549107142857143,
    gsm8k: 0.8847611827141774,
    healthbench: 0.44918867035528026,
    humaneval: 0.6890243902439024,
  },
  'Qwen3-1.7B-Base': {
    aime2025: 0.0,
    arenahardwriting: 0.009142053445850914,
    bfcl: 0.0,
    gpqamain: 0.140625,
    gsm8k: 0.12661106899166036,
    healthbench: 0.07537565969807473,
    humaneval: 0.07926829268292683,
  },
  'Qwen3-4B': {
    aime2025: 0.5333333333333333,
    arenahardwriting: 0.8683943089430894,
    bfcl: 0.95,
    gpqamain: 0.44642857142857145,
    gsm8k: 0.9378316906747536,
    healthbench: 0.5272399437524256,
    humaneval: 0.774390243902439,
  },
  'Qwen3-4B-Base': {
    aime2025: 0.03333333333333333,
    arenahardwriting: 0.03417533432392273,
    bfcl: 0.0,
    gpqamain: 0.13392857142857142,
    gsm8k: 0.4184988627748294,
    healthbench: 0.13383521639663787,
    humaneval: 0.36585365853658536,
  },
  'SmolLM3-3B': {
    aime2025: 0.26666666666666666,
    arenahardwriting: 0.492,
    bfcl: 0.84,
    gpqamain: 0.3325892857142857,
    gsm8k: 0.8218347232752085,
    healthbench: 0.2957717718639611,
    humaneval: 0.7012195121951219,
  },
  'SmolLM3-3B-Base': {
    aime2025: 0.03333333333333333,
    arenahardwriting: 0.004225352112676056,
    bfcl: 0.0,
    gpqamain: 0.049107142857142856,
    gsm8k: 0.21076573161485973,
    healthbench: 0.0,
    humaneval: 0.06097560975609756,
  },
  'gemma-3-4b-it': {
    aime2025: 0.1,
    arenahardwriting: 0.948,
    bfcl: 0.67,
    gpqamain: 0.31473214285714285,
    gsm8k: 0.8354814253222138,
    healthbench: 0.46063396051286026,
    humaneval: 0.6951219512195121,
  },
  'gemma-3-4b-pt': {
    aime2025: 0.0,
    arenahardwriting: 0.0028530670470756064,
    bfcl: 0.06,
    gpqamain: 0.015625,
    gsm8k: 0.06141015921152388,
    healthbench: 0.17039403723633986,
    humaneval: 0.006097560975609756,
  },
};

/** Base models few-shot. */
export const AGGREGATED_BASELINE_FEWSHOT: BaselineTable = {
  'Qwen3-1.7B-Base': {
    aime2025: 0.05333333333333333,
    arenahardwriting: 0.05314625850340136,
    bfcl: 0.0,
    gpqamain: 0.25959821428571417,
    gsm8k: 0.46679302501895537,
    healthbench: 0.2110110691560308,
    humaneval: 0.25243902439024396,
  },
  'Qwen3-4B-Base': {
    aime2025: 0.09000000000000001,
    arenahardwriting: 0.19168260038240917,
    bfcl: 0.0,
    gpqamain: 0.29888392857142837,
    gsm8k: 0.7438210765731573,
    healthbench: 0.2179351466647625,
    humaneval: 0.6774390243902438,
  },
  'SmolLM3-3B-Base': {
    aime2025: 0.06000000000000001,
    arenahardwriting: 0.03248811410459588,
    bfcl: 0.0,
    gpqamain: 0.13236607142857182,
    gsm8k: 0.5298711144806676,
    healthbench: 0.10165123092180756,
    humaneval: 0.3237804878048783,
  },
  'gemma-3-4b-pt': {
    aime2025: 0.0,
    arenahardwriting: 0.01257396449704142,
    bfcl: 0.06699999999999998,
    gpqamain: 0.21406249999999985,
    gsm8k: 0.0583775587566339,
    healthbench: 0.23317845064882012,
    humaneval: 0.004878048780487805,
  },
};
