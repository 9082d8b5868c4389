#!/usr/bin/env node
// Ground truth for the tokenizer tests: tokenizes a JSON list of strings with
// real llama.cpp (the native prebuilt binaries the npm package node-llama-cpp
// ships; no model download, the GGUF is given) and writes
//   ids                      = llama_tokenize(vocab, text, add_special=false, parse_special=true)
//   ids_parse_special_false  = the same with parse_special=false
//   detokenized              = llama_detokenize(ids, remove_special=false, unparse_special=true)
// plus the model's EOG set (llama_vocab_is_eog over the whole vocabulary).
//
// Usage (outside the repository, so node_modules stays out of it):
//   mkdir -p /tmp/llref && cd /tmp/llref && npm init -y && npm install node-llama-cpp@3.22.1
//   python3 <repo>/scripts/reference/tokenizer_strings.py > strings.json
//   LLAMA_CPP_COMMIT=<commit> node <repo>/scripts/reference/tokenize-llamacpp.mjs \
//       --model ~/.cache/banneret/models/SmolLM2-135M-Instruct.Q4_1.gguf \
//       --strings strings.json --out <repo>/tests/data/smollm2-tokenizer-extra.json
// tests/data/gemma3-270m-tokenizer-extra.json is the same run with
// --model gemma-3-270m-q4_k_m.gguf (MODELS.md) and the same strings.
// LLAMA_CPP_COMMIT is optional: the prebuilt library reports it through
// `llama_commit()` in libllama-common.so (node-llama-cpp does not expose it).

import {createHash} from "node:crypto";
import {readFileSync, writeFileSync, statSync} from "node:fs";
import {createRequire} from "node:module";
import path from "node:path";
import {getLlama} from "node-llama-cpp";

function arg(name) {
    const i = process.argv.indexOf(`--${name}`);
    if (i < 0 || i + 1 >= process.argv.length) {
        console.error(`missing --${name}`);
        process.exit(2);
    }
    return process.argv[i + 1];
}

const modelPath = arg("model");
const strings = JSON.parse(readFileSync(arg("strings"), "utf8"));
const out = arg("out");
if (!Array.isArray(strings) || strings.some((s) => typeof s !== "string")) {
    throw new Error("--strings must be a JSON array of strings");
}

function packageVersion(name) {
    // The package's "exports" hide package.json: walk up from its entry point.
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
const nlcVersion = packageVersion("node-llama-cpp");
const modelBytes = readFileSync(modelPath);

const llama = await getLlama({gpu: false, build: "never"});
const model = await llama.loadModel({modelPath, gpuLayers: 0});

const entries = strings.map((text) => {
    const ids = Array.from(model.tokenize(text, true));
    const plain = Array.from(model.tokenize(text, false));
    return {text, ids, ids_parse_special_false: plain, detokenized: model.detokenize(ids, true)};
});

const nVocab = model.fileInfo.metadata.tokenizer.ggml.tokens.length;
const eog = [];
for (let id = 0; id < nVocab; id++) {
    if (model.isEogToken(id)) eog.push(id);
}
if (eog.length === 0) throw new Error("no end-of-generation token found: the EOG scan is broken");

const result = {
    model: {
        file: path.basename(modelPath),
        bytes: statSync(modelPath).size,
        sha256: createHash("sha256").update(modelBytes).digest("hex"),
    },
    generated_by: {
        date: new Date().toISOString(),
        command: "node scripts/reference/tokenize-llamacpp.mjs (strings from scripts/reference/tokenizer_strings.py)",
        tool: `node-llama-cpp ${nlcVersion} (${llama.buildType} binaries, CPU)`,
        llama_cpp_release: llama.llamaCppRelease.release,
        llama_cpp_commit: process.env.LLAMA_CPP_COMMIT ?? null,
        calls: "ids: common_tokenize(vocab, text, add_special=false, parse_special=true); " +
            "ids_parse_special_false: the same with parse_special=false; " +
            "detokenized: llama_detokenize(ids, remove_special=false, unparse_special=true)",
    },
    // eot: when the GGUF does not name it, llama.cpp takes the first matching
    // text in unordered_map order, so it differs between builds.
    special_tokens: {bos: model.tokens.bos, eos: model.tokens.eos, eot: model.tokens.eot, eog},
    tokenization: entries,
};
writeFileSync(out, JSON.stringify(result, null, 1) + "\n");
await model.dispose();
await llama.dispose();
console.error(`wrote ${entries.length} entries to ${out}`);
