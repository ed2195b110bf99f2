"""Reports into formats: the one table of formats (formats.py), the terminal report,
the JSON report and its lines, and the annotated documents (document.py, then
Markdown, HTML, Word and PDF).

The words they show for outcomes and lists come from the rule set's vocabulary
(questions.yaml); the tool's own phrases from riskassess/words.py. Renderers are
imported lazily, so a command pays only for the format it prints. Every renderer is
deterministic: the same report gives the same bytes.
"""
