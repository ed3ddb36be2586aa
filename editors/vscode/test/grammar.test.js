// The TextMate grammar on the repository's rulesets, tokenized by the same engine VS Code uses
// (vscode-textmate with the Oniguruma regular expressions): every class of token appears, and no
// character but spaces is left with only the file's own scope.
"use strict";
const fs = require("fs");
const path = require("path");
const textmate = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const here = __dirname;
const repository = path.resolve(here, "..", "..", "..");

function rulesets(folder) {
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) return rulesets(full);
    return entry.name.endsWith(".rules") ? [full] : [];
  });
}

async function main() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async () => textmate.parseRawGrammar(
      fs.readFileSync(path.join(here, "..", "syntaxes", "tenet.tmLanguage.json"), "utf8"),
      "tenet.tmLanguage.json"),
  });
  const grammar = await registry.loadGrammar("source.tenet");
  const seen = new Map();  // scope -> an example of its text
  const unscoped = [];
  const files = rulesets(path.join(repository, "rulesets"));
  for (const file of files) {
    let state = textmate.INITIAL;
    fs.readFileSync(file, "utf8").split("\n").forEach((line, number) => {
      const result = grammar.tokenizeLine(line, state);
      for (const token of result.tokens) {
        const text = line.slice(token.startIndex, token.endIndex);
        const scope = token.scopes[token.scopes.length - 1];
        if (token.scopes.length < 2 && text.trim() !== "") {
          unscoped.push(`${path.relative(repository, file)}:${number + 1}: ${JSON.stringify(text)}`);
        }
        if (!seen.has(scope)) seen.set(scope, text);
        if (scope === "constant.numeric.tenet" && text.includes("_")) seen.set("number with _", text);
        if (scope === "constant.numeric.tenet" && text.endsWith("%")) seen.set("number with %", text);
      }
      state = result.ruleStack;
    });
  }
  const wanted = ["comment.line.number-sign.tenet", "string.quoted.double.tenet",
    "constant.numeric.date.tenet", "constant.numeric.tenet", "number with _", "number with %",
    "constant.other.reason-code.tenet", "storage.type.declaration.tenet", "keyword.control.tenet",
    "keyword.operator.word.tenet", "support.type.tenet", "constant.language.tenet",
    "support.function.tenet", "keyword.operator.tenet", "punctuation.tenet",
    "variable.other.tenet"];
  const missing = wanted.filter((scope) => !seen.has(scope));
  if (unscoped.length > 0 || missing.length > 0) {
    console.error(`unscoped: ${unscoped.slice(0, 20).join("\n  ")}`);
    console.error(`token classes that never appear: ${missing.join(", ")}`);
    process.exit(1);
  }
  console.log(`grammar: ${files.length} rulesets tokenized; ${wanted.length} token classes, `
    + "every character scoped");
}

main().catch((error) => { console.error(error); process.exit(1); });
