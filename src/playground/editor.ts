// The scenario editor: CodeMirror with YAML highlighting, and the loader's problems shown where
// they are, at the line and column the CLI would print.

import { basicSetup, EditorView } from "codemirror";
import { yaml } from "@codemirror/lang-yaml";
import { type Diagnostic, lintGutter, setDiagnostics } from "@codemirror/lint";
import type { ScenarioIssue } from "../scenario/errors.ts";

export interface ScenarioEditor {
  text(): string;
  setText(text: string): void;
  showIssues(issues: readonly ScenarioIssue[]): void;
}

export function createEditor(parent: HTMLElement, onChange: () => void): ScenarioEditor {
  const view = new EditorView({
    parent,
    doc: "",
    extensions: [
      basicSetup,
      yaml(),
      lintGutter(),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) onChange();
      }),
    ],
  });
  return {
    text: () => view.state.doc.toString(),
    setText: (text) =>
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    showIssues: (issues) => {
      const doc = view.state.doc;
      const diagnostics: Diagnostic[] = issues.map((issue) => {
        // A file-level issue (line 0) has no place: it is shown at the start.
        if (issue.line < 1 || issue.line > doc.lines) {
          return { from: 0, to: 0, severity: "error", message: issue.message };
        }
        const line = doc.line(issue.line);
        const from = Math.min(line.from + Math.max(issue.column - 1, 0), line.to);
        return {
          from,
          to: line.to,
          severity: "error",
          message: issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`,
        };
      });
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
  };
}
