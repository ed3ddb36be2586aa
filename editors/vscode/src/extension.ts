// The Tenet extension: starts `tenet lsp` and hands it every `.rules` file. Everything the editor
// shows about a ruleset (diagnostics, hover, completion, formatting, quick fixes, the lenses that
// run examples and verify properties) comes from the language server; this file only starts it.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const settings = vscode.workspace.getConfiguration("tenet");
  const command = settings.get<string>("path", "tenet");
  const args = [...settings.get<string[]>("extraArguments", []), "lsp"];
  const server: ServerOptions = { run: { command, args }, debug: { command, args } };
  const options: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "tenet" }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.rules") },
  };
  client = new LanguageClient("tenet", "Tenet", server, options);
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration(async (change) => {
    if (change.affectsConfiguration("tenet") && client !== undefined) {
      await client.restart();
    }
  }));
  await client.start();
}

export async function deactivate(): Promise<void> {
  if (client !== undefined) {
    await client.stop();
  }
}
