#!/usr/bin/env node
// Ground truth for the forward pass of a base model (Gemma 3 270M): for each
// prompt below, llama.cpp's greedy continuation and, at every step, the top-k
// log-probabilities of the raw next-token distribution, with flash attention
// on and off. tests/gemma3_reference.rs teacher-forces these ids through our
// forward pass and compares.
//
// How the distribution is read: node-llama-cpp's
// `LlamaContextSequence.evaluateWithMetadata(tokens, {probabilities: true},
// {temperature: 0})`. With temperature 0 its sampler chain is llama.cpp's
// greedy sampler alone (no top-k/top-p/min-p, no penalties: AddonSampler's
// `rebuildChainIfNeeded`), which selects without touching the logits, and the
// addon then returns softmax over all 262 144 logits (AddonContext.cpp,
// `returnProbabilities`). So the probabilities are the model's own; we keep
// the k highest, as natural logs.
//
// Threads: 1. With more threads than free cores ggml's spinning workers slow
// this to seconds per token on a shared machine; results do not depend on it.
//
// Usage (outside the repository, as tokenize-llamacpp.mjs):
//   mkdir -p /tmp/llref && cd /tmp/llref && npm init -y && npm install node-llama-cpp@3.22.1
//   cp <repo>/scripts/reference/logprobs-llamacpp.mjs . && node logprobs-llamacpp.mjs \
//       --model ~/.cache/banneret/models/gemma-3-270m-q4_k_m.gguf \
//       --out <repo>/tests/data/gemma3-llamacpp.json
// (Copied next to node_modules so that `import "node-llama-cpp"` resolves.)

import {createHash} from "node:crypto";
import {readFileSync, writeFileSync, statSync} from "node:fs";
import {createRequire} from "node:module";
import path from "node:path";
import {getLlama} from "node-llama-cpp";

const TOP_K = 10;
const CONTEXT = 2048;

// A few-shot prompt longer than the 512-token sliding window, so the window's
// edge is exercised (sliding layers must not see the first examples; the
// global ones must).
const LONG_EXAMPLES = [
    ["Ridgeline Trail Runner", "$99, was $129", "Vibram outsole; rock plate; 8 mm drop",
        "Trail-ready for less: the Ridgeline Trail Runner, now $99 (was $129)."],
    ["Stormshell 3L Jacket", "$199, was $249", "waterproof 3-layer membrane; pit zips",
        "Stay dry on every ridge. The Stormshell 3L Jacket is now $199, down from $249."],
    ["Featherlite Down Parka", "$299", "800-fill down; packs into its own pocket",
        "Warmth that packs small: the Featherlite Down Parka, $299."],
    ["Basecamp 2 Tent", "$279, was $349", "2-person; 1.9 kg packed; 3-season",
        "Room for two, light on your back: the Basecamp 2 Tent, now $279."],
    ["Ember -7C Sleeping Bag", "$189", "rated to -7C; water-resistant shell",
        "Cold nights, warm sleep. The Ember -7C Sleeping Bag, $189."],
    ["Summit 28L Daypack", "$119", "hydration sleeve; ventilated back panel",
        "Everything for the day, nothing extra: the Summit 28L Daypack, $119."],
    ["Grounded Yoga Mat", "$59, was $79", "natural rubber; 4 mm cushioning",
        "天然橡胶，4 毫米缓冲。Grounded Yoga Mat 瑜伽垫现价 $59，原价 $79。"],
    ["Lumen 400 Headlamp", "$39, was $49", "400 lumens; USB-C rechargeable",
        "夜跑也能看清前路：Lumen 400 头灯，400 流明，USB-C 充电，现价 $39。"],
    ["Insulated Trail Bottle 750 ml", "$34", "keeps drinks cold 24 h; leak-proof lid",
        "Kalt für 24 Stunden, dicht verschlossen: die Insulated Trail Bottle 750 ml für 34 $."],
    ["Cast Iron Kettlebell 12 kg", "$64", "flat base; wide handle",
        "Un entraînement complet à la maison : la Cast Iron Kettlebell 12 kg, 64 $."],
    ["Tempo Road Shoe", "$139", "carbon-infused plate; breathable knit upper",
        "Velocidad para tus carreras: Tempo Road Shoe, con placa de carbono, por 139 $."],
];
const longPrompt = LONG_EXAMPLES.map(([name, price, features, copy], i) =>
    `Example ${i + 1}\nProduct: ${name}\nPrice: ${price}\nFeatures: ${features}\nCopy: ${copy}\n`).join("\n") +
    "\nExample 12\nProduct: Northwind Gift Card\nPrice: $50\nFeatures: never expires; delivered by email\nCopy:";

const PROMPTS = [
    {name: "en-plain", language: "en", prompt: "The capital of France is", steps: 24},
    {name: "zh-plain", language: "zh", prompt: "北京是中国的首都，也是", steps: 24},
    {name: "de-plain", language: "de", prompt: "Der beste Weg, eine neue Sprache zu lernen, ist", steps: 24},
    {name: "fr-plain", language: "fr", prompt: "La recette traditionnelle de la ratatouille commence par", steps: 24},
    {name: "es-plain", language: "es", prompt: "Las playas más bonitas de España están en", steps: 24},
    {name: "ja-plain", language: "ja", prompt: "東京で一番有名な観光地は", steps: 24},
    {
        name: "zh-fewshot",
        language: "zh",
        prompt: "商品：Lumen 400 头灯\n价格：$39，原价 $49\n标题：夜跑好帮手，现价 $39\n\n" +
            "商品：Grounded Yoga Mat 瑜伽垫\n价格：$59，原价 $79\n标题：",
        steps: 24,
    },
    {name: "long-window", language: "mixed", prompt: longPrompt, steps: 32},
];

function arg(name) {
    const i = process.argv.indexOf(`--${name}`);
    if (i < 0 || i + 1 >= process.argv.length) {
        console.error(`missing --${name}`);
        process.exit(2);
    }
    return process.argv[i + 1];
}

function packageVersion(name) {
    let dir = path.dirname(createRequire(import.meta.url).resolve(name));
    for (;;) {
        try {
            const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
            if (pkg.name === name) return pkg.version;
        } catch {
            // no package.json here
        }
        const up = path.dirname(dir);
        if (up === dir) return "unknown";
        dir = up;
    }
}

const modelPath = arg("model");
const out = arg("out");
const llama = await getLlama({gpu: false, build: "never"});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const bos = model.tokens.bos;
if (model.fileInfo.metadata.tokenizer.ggml.add_bos_token !== true || bos == null) {
    throw new Error("this script prepends BOS as llama.cpp does for models whose metadata asks for it");
}

async function greedy(promptIds, steps, flashAttention) {
    const context = await model.createContext({
        contextSize: CONTEXT, batchSize: CONTEXT, flashAttention, sequences: 1, threads: 1,
    });
    const sequence = context.getSequence();
    const ids = [];
    const top = [];
    let finish = "length";
    for await (const step of sequence.evaluateWithMetadata(
        promptIds, {probabilities: true}, {temperature: 0, yieldEogToken: true})) {
        const best = [...step.probabilities.entries()].slice(0, TOP_K);
        if (best[0][0] !== step.token) throw new Error("greedy token is not the most probable one");
        ids.push(step.token);
        top.push(best.map(([id, p]) => [id, Number(Math.log(p).toFixed(6))]));
        if (model.isEogToken(step.token)) {
            finish = "eog";
            break;
        }
        if (ids.length >= steps) break;
    }
    await context.dispose();
    const text = model.detokenize(ids.filter((id) => !model.isEogToken(id)));
    return {finish_reason: finish, text, ids, top};
}

const generation = [];
for (const p of PROMPTS) {
    const promptIds = [bos, ...Array.from(model.tokenize(p.prompt, false))];
    const on = await greedy(promptIds, p.steps, true);
    const off = await greedy(promptIds, p.steps, false);
    generation.push({
        name: p.name,
        language: p.language,
        prompt: p.prompt,
        prompt_ids: promptIds,
        flash_attn_on: on,
        flash_attn_off: off,
        flash_attn_on_off_same_ids: JSON.stringify(on.ids) === JSON.stringify(off.ids),
    });
    console.error(`${p.name}: ${promptIds.length} prompt tokens; ${JSON.stringify(on.text)}`);
}

const bytes = readFileSync(modelPath);
writeFileSync(out, JSON.stringify({
    model: {
        file: path.basename(modelPath),
        bytes: statSync(modelPath).size,
        sha256: createHash("sha256").update(bytes).digest("hex"),
    },
    generated_by: {
        date: new Date().toISOString(),
        command: "node scripts/reference/logprobs-llamacpp.mjs",
        tool: `node-llama-cpp ${packageVersion("node-llama-cpp")} (${llama.buildType} binaries, CPU, 1 thread)`,
        llama_cpp_release: llama.llamaCppRelease.release,
    },
    options: {
        bos_added: true,
        prompt_ids: "BOS, then tokenize(prompt, parse_special=false)",
        generation: `greedy (temperature 0: llama.cpp's greedy sampler only), at most 'steps' tokens, ` +
            `stops after an end-of-generation token (kept as the last id); n_ctx ${CONTEXT}, KV cache f16`,
        top: `the ${TOP_K} most probable [id, natural-log probability] per step, from softmax over the full ` +
            "vocabulary of the raw logits, highest first",
        flash_attn: "flash_attn_on and flash_attn_off load the context with flashAttention true / false",
    },
    generation,
}, null, 1) + "\n");
await model.dispose();
await llama.dispose();
console.error(`wrote ${generation.length} prompts to ${out}`);
