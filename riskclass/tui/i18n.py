"""Every string the TUI shows, in Chinese (the default) and English.

Words the terminal output already uses (section headings, "decided by …", the disclaimer) come from
`riskclass.render.LABELS`, so the CLI and the TUI never describe the same thing in two ways.
"""

from __future__ import annotations

from dataclasses import replace

from riskclass.reports.terminal import LABELS as RENDER_LABELS

LANGS = ("zh", "en")

# key → (zh, en). Keys are grouped by screen; `binding.<action>` keys label the footer and the help screen.
STRINGS: dict[str, tuple[str, str]] = {
    # app
    "app.title": ("riskclass · 成都人工智能风险分级", "riskclass · Chengdu AI risk tiers"),
    "engine.starting": ("正在准备规则…", "preparing the rules…"),
    "engine.loading": ("模型加载中，暂按规则评估…", "loading the model; rules only meanwhile…"),
    "engine.model": ("规则 + 模型", "rules + model"),
    "engine.rules": ("仅规则", "rules only"),
    "engine.failed": ("模型不可用，仅按规则评估：{error}", "model unavailable, rules only: {error}"),
    "lang.switched": ("界面语言：中文", "Interface language: English"),
    "theme.switched": ("主题：{theme}", "Theme: {theme}"),
    "internal": (
        "内部错误：{error}（请连同输入一起报告）",
        "internal error: {error} (please report this with the input)",
    ),
    # bindings (footer, help, command palette)
    "binding.assess_now": ("立即评估", "Assess now"),
    "binding.export": ("导出", "Export"),
    "binding.batch": ("批量", "Batch"),
    "binding.toggle_language": ("English", "中文"),
    "binding.toggle_theme": ("明/暗", "Light/dark"),
    "binding.help": ("帮助", "Help"),
    "binding.quit": ("退出", "Quit"),
    "binding.command_palette": ("命令", "Commands"),
    "binding.back": ("返回", "Back"),
    "binding.run_batch": ("运行", "Run"),
    "binding.cancel_batch": ("取消运行", "Cancel run"),
    "binding.browse": ("浏览目录", "Browse"),
    "binding.open_row": ("在评估页打开", "Open in Assess"),
    "binding.focus_questions": ("回答问题", "Answer questions"),
    "binding.toggle_item": ("勾选", "Tick"),
    "binding.review": ("复核", "Review"),
    "binding.register": ("登记册", "Register"),
    "binding.search": ("搜索", "Search"),
    "binding.cycle_tier": ("等级", "Tier"),
    "binding.cycle_review": ("需复核", "Needs review"),
    "binding.cycle_sort": ("排序", "Sort"),
    "binding.reverse_sort": ("倒序", "Reverse"),
    "binding.save_description": ("存入登记册", "Save to register"),
    "binding.new": ("新建", "New"),
    "binding.open": ("打开", "Open"),
    "binding.clear": ("清空", "Clear"),
    # command palette help lines
    "cmd.assess_now": ("不等输入停顿，立即评估当前描述", "Assess the current description without waiting"),
    "cmd.export": (
        "把当前评估保存为报告（Markdown、HTML 和 JSON）",
        "Save the current assessment as a report (Markdown, HTML and JSON)",
    ),
    "cmd.batch": ("评估一个 CSV 文件中的每一行", "Assess every row of a CSV file"),
    "cmd.language_title": ("界面语言：English", "Language: 中文"),
    "cmd.toggle_language": ("切换界面语言（中文 / English）", "Switch the interface language (中文 / English)"),
    "cmd.toggle_theme": ("在明亮和暗色主题之间切换", "Switch between the light and dark theme"),
    "cmd.help": ("列出所有按键", "List every key"),
    "cmd.focus_questions": ("跳到需要回答的问题", "Jump to the follow-up questions"),
    "cmd.run_batch": ("用所选的列评估输入文件的每一行", "Assess every row of the input file with the chosen column"),
    "cmd.cancel_batch": ("停止正在运行的批量评估（不写输出文件）", "Stop the running batch (no output file written)"),
    "cmd.browse": ("在目录树中选择输入文件", "Pick the input file in a directory tree"),
    "cmd.article": ("打开草案原文：{label}（{title}）", "Open the draft: {label} ({title})"),
    "cmd.review": (
        "接受或更改建议的等级并说明理由，记入审计日志",
        "Accept or change the suggested tier with a reason; recorded in the audit log",
    ),
    "cmd.register": (
        "打开登记册：团队的全部 AI 产品、等级、复核决定和历史",
        "Open the register: the team's AI products, their tiers, decisions and history",
    ),
    "cmd.save_description": (
        "把修改后的描述存为登记册中该产品的新版本",
        "Keep the edited description as the product's next version in the register",
    ),
    "cmd.new": (
        "评估另一个产品：清空描述、回答和已勾选的步骤",
        "Assess another product: the description, answers and ticked steps are cleared",
    ),
    "cmd.open": (
        "打开保存的评估（classify --json 或导出报告的 .json 文件）",
        "Open a saved assessment (classify --json output, or the .json of an exported report)",
    ),
    "cmd.clear": (
        "清空描述以便重写（回答和勾选一并清除）",
        "Empty the description to write it again (answers and ticks too)",
    ),
    # Textual's built-in commands and texts, in the interface language
    "palette.placeholder": ("搜索命令…", "Search for commands…"),
    "palette.themes": ("搜索主题…", "Search for themes…"),
    "palette.no_matches": ("没有匹配的命令", "No matches found"),
    "sys.theme": ("主题", "Theme"),
    "sys.theme_help": ("从所有主题中选择一个", "Choose one of every theme"),
    "sys.quit": ("退出", "Quit"),
    "sys.quit_help": ("立即退出应用", "Quit the application at once"),
    "sys.keys": ("按键", "Keys"),
    "sys.keys_help": ("列出所有按键及其作用", "List every key and what it does"),
    "sys.maximize": ("最大化", "Maximize"),
    "sys.maximize_help": ("让当前区域占满屏幕", "Let the focused area fill the screen"),
    "sys.minimize": ("还原", "Minimize"),
    "sys.minimize_help": ("把最大化的区域还原为正常大小", "Restore the maximized area to its normal size"),
    "sys.screenshot": ("截图", "Screenshot"),
    "sys.screenshot_help": ("把当前屏幕保存为 SVG 图片", "Save an SVG picture of the current screen"),
    "sys.screenshot_saved": ("截图已保存：{path}", "Screenshot saved: {path}"),
    "sys.screenshot_failed": ("未能保存截图", "The screenshot could not be saved"),
    "sys.how_to_quit": ("按 {keys} 退出", "Press {keys} to quit"),
    "sys.quit_title": ("要退出吗？", "Do you want to quit?"),
    "assess.placeholder": (
        "在此输入或粘贴产品描述：它做什么、作用于谁、输出用来做什么。",
        "Type or paste a description of the AI product: what it does, to whom, and what its output is used for.",
    ),
    "assess.input_title": ("产品描述", "Product description"),
    "assess.result_title": ("评估结果", "Assessment"),
    "assess.button": ("立即评估", "Assess now"),
    "assess.export_button": ("导出…", "Export…"),
    "assess.hint_empty": (
        "请描述这个人工智能产品：它做什么、作用于谁、输出用来做什么。停止输入片刻即自动评估。",
        "Describe the AI product: what it does, to whom, what its output is used for. "
        "The assessment updates when you pause.",
    ),
    "assess.hint_working": ("评估中…", "assessing…"),
    "assess.hint_done": ("已评估 {chars} 个字符（{engine}）", "assessed {chars} characters ({engine})"),
    "assess.hint_stale": ("显示的是上一次的结果", "showing the previous result"),
    "assess.nothing": ("还没有评估结果", "no assessment yet"),
    "assess.nothing_to_export": ("还没有可导出的评估：先输入描述", "Nothing to export yet: describe a product first"),
    "assess.chars": ("{chars} 字", "{chars} chars"),
    "assess.new_done": ("新的评估：请描述产品", "New assessment: describe the product"),
    # open (a saved assessment)
    "open.title": ("打开保存的评估", "Open a saved assessment"),
    "open.prompt": (
        "JSON 文件路径（classify --json 的输出，或导出报告的 .json 文件）",
        "Path of a JSON file (classify --json output, or the .json of an exported report)",
    ),
    "open.placeholder": ("例如 loan.json；→ 键补全", "e.g. loan.json; → completes"),
    "open.open": ("打开", "Open"),
    "open.cancel": ("取消", "Cancel"),
    "open.empty": ("请填写路径", "enter a path"),
    "open.missing": ("没有这个文件：{path}", "no such file: {path}"),
    "open.failed": ("无法打开 {path}：{error}", "cannot open {path}: {error}"),
    "open.done": ("已打开 {path}，按当前规则重新评估", "Opened {path}, assessed again with the current rules"),
    # yes/no questions
    "confirm.yes": ("是", "Yes"),
    "confirm.no": ("否", "No"),
    # assessment view
    "view.confidence": ("置信度 {value:.2f}", "confidence {value:.2f}"),
    "view.answers_applied": ("已把你的回答作为事实：{answers}", "your answers applied as facts: {answers}"),
    "view.evidence_more": ("…（另有 {more} 字未显示）", "… ({more} more characters not shown)"),
    "view.steps_hint": ("空格键勾选已完成的步骤", "Space ticks an item"),
    "view.open_hint": ("回车或点击条文编号可查看原文", "Enter or click a citation to read the article"),
    "view.model_loading": ("模型加载中", "model loading"),
    "view.probabilities": ("模型概率", "model probabilities"),
    "view.decided": ("复核决定：", "Decided: "),
    "view.intro": (
        "在左侧描述一个人工智能产品，这里会给出建议的风险等级（高/中/低）、依据的条文、证据词、应履行的步骤和需要补充的事实。",
        "Describe an AI product on the left: its suggested risk tier (high/medium/low), the articles behind it, the "
        "evidence words, the steps it owes and the facts still to establish appear here.",
    ),
    # questions
    "questions.title": (
        "请补充以下事实（回答会作为事实覆盖描述中的推断）",
        "Please establish these facts (an answer overrides what the text suggests)",
    ),
    "questions.yes": ("是", "yes"),
    "questions.no": ("否", "no"),
    "questions.unknown": ("不确定", "unknown"),
    "questions.clear": ("清除回答", "Clear answers"),
    # article viewer
    "article.title": ("草案原文", "Draft text"),
    "article.quote": ("引用的句子已高亮", "the quoted sentence is highlighted"),
    "article.draft": ("《成都市促进人工智能产业发展办法（征求意见稿）》", "Chengdu draft measures (征求意见稿)"),
    # export
    "export.title": ("导出当前评估", "Export the current assessment"),
    "export.prompt": (
        "文件路径（不含扩展名）：将写入 .md、.html 和 .json 三个文件",
        "Path without extension: a .md, an .html and a .json file are written",
    ),
    "export.save": ("保存", "Save"),
    "export.cancel": ("取消", "Cancel"),
    "export.written": ("已写入 {md}、{html} 和 {json}", "Wrote {md}, {html} and {json}"),
    "export.failed": ("无法写入 {path}：{error}", "cannot write {path}: {error}"),
    "export.empty": ("请填写路径", "enter a path"),
    "export.overwrite_title": ("覆盖已有文件？", "Overwrite existing files?"),
    "export.overwrite": (
        "以下文件已存在：\n{files}\n覆盖它们吗？（选“否”可换一个名字）",
        "These files exist already:\n{files}\nOverwrite them? (No lets you choose another name)",
    ),
    # review (issue 6): the dialog, and the earlier decision shown in the assessment view
    "review.title": ("复核当前评估", "Review the current assessment"),
    "review.suggested": (
        "建议等级：{tier}（{criteria}；置信度 {confidence:.2f}）",
        "Suggested tier: {tier} ({criteria}; confidence {confidence:.2f})",
    ),
    "review.reviewer": ("复核人", "Reviewer"),
    "review.reviewer_placeholder": ("姓名（必填，记入审计日志）", "name (required; recorded in the audit log)"),
    "review.decision": ("决定", "Decision"),
    "review.accept": ("接受建议：{tier}", "Accept the suggestion: {tier}"),
    "review.change": ("改为：{tier}", "Change to: {tier}"),
    "review.reason": ("理由（改判时必填）", "Reason (required when you change the tier)"),
    "review.reason_placeholder": ("为什么这样决定", "why you decided so"),
    "review.log": ("审计日志：{path}", "Audit log: {path}"),
    "review.save": ("记录", "Record"),
    "review.cancel": ("取消", "Cancel"),
    "review.need_reviewer": ("请填写复核人姓名", "enter the reviewer's name"),
    "review.need_reason": ("改判时请说明理由", "give a reason for changing the tier"),
    "review.nothing": ("还没有可复核的评估：先输入描述", "Nothing to review yet: describe a product first"),
    "review.recorded": ("已记入审计日志第 {line} 条：{path}", "Recorded as entry {line} of the audit log: {path}"),
    "review.failed": ("未能记录复核决定：{error}", "The decision was not recorded: {error}"),
    "review.log_problem": ("审计日志有问题：{error}", "Audit log problem: {error}"),
    "review.chain_broken": (
        "注意：审计日志已损坏（{problem}），请运行 riskclass audit verify",
        "Warning: the audit log is broken ({problem}); run riskclass audit verify",
    ),
    # batch
    "batch.title": ("批量评估", "Batch assessment"),
    "batch.input": ("输入文件", "Input file"),
    "batch.input_placeholder": (
        "CSV、TSV 或 xlsx 文件的路径；→ 键补全",
        "path of a CSV, TSV or xlsx file; → completes",
    ),
    "batch.column": ("描述列", "Description column"),
    "batch.column_none": ("未识别出描述列：请选择", "no description column recognised: choose one"),
    "batch.output": ("输出文件", "Output file"),
    "batch.overwrite": ("覆盖已有文件", "Overwrite existing file"),
    "batch.run": ("运行", "Run"),
    "batch.cancel": ("取消", "Cancel"),
    "batch.browse": ("浏览…", "Browse…"),
    "batch.running": ("正在评估第 {done} / {total} 行", "assessing row {done} of {total}"),
    "batch.running_unknown": ("已评估 {done} 行", "{done} rows assessed"),
    "batch.cancelled": ("已取消：未写入输出文件", "Cancelled: no output file was written"),
    "batch.finished": (
        "完成：{rows} 行（高 {high} · 中 {medium} · 低 {low}），需复核 {review}，出错 {errors}；已写入 {output}",
        "Done: {rows} rows (high {high} · medium {medium} · low {low}), {review} need review, {errors} failed; "
        "wrote {output}",
    ),
    "batch.header": ("检测到 {n} 列；描述列：{column}", "{n} columns found; description column: {column}"),
    "batch.filter_tier": ("等级", "Tier"),
    "batch.filter_review": ("复核", "Review"),
    "batch.filter_criterion": ("标准", "Criterion"),
    "batch.all": ("全部", "all"),
    "batch.failed_rows": ("出错", "failed"),
    "batch.review_yes": ("需复核", "needs review"),
    "batch.review_no": ("无需复核", "no review"),
    "batch.shown": ("显示 {shown} / {total} 行 · 回车打开", "{shown} / {total} rows · Enter opens"),
    "batch.capped": (
        "表格只载入前 {shown:,} 行（共 {total:,} 行）；完整结果在输出文件 {output}",
        "the table holds the first {shown:,} of {total:,} rows; the full results are in the output file {output}",
    ),
    "batch.no_input": ("请先选择输入文件", "choose an input file first"),
    "batch.no_column": ("请先选择描述列", "choose the description column first"),
    "batch.unavailable": ("批量模块不可用：{error}", "batch module unavailable: {error}"),
    "batch.row_error": ("该行出错：{error}", "this row failed: {error}"),
    "batch.col.row": ("行", "row"),
    "batch.col.description": ("描述", "description"),
    "batch.col.tier": ("等级", "tier"),
    "batch.col.confidence": ("置信度", "confidence"),
    "batch.col.criteria": ("标准", "criteria"),
    "batch.col.red_flags": ("红旗", "red flags"),
    "batch.col.needs_review": ("复核", "review"),
    "batch.col.error": ("错误", "error"),
    # register screen
    "register.search_placeholder": ("/ 搜索编号、名称或描述", "/ search id, name, text"),
    "register.history": ("产品历史", "Product history"),
    "register.none": ("—", "—"),
    "register.no_selection": ("选择一个产品查看其历史", "Choose a product to see its history"),
    "register.col.id": ("编号", "id"),
    "register.col.name": ("名称", "name"),
    "register.col.tier": ("等级", "tier"),
    "register.col.review": ("需复核", "needs review"),
    "register.col.decided": ("复核决定", "decided"),
    "register.col.assessed": ("最近评估（UTC）", "last assessed (UTC)"),
    "register.count": ("{shown} 个产品 · 回车在评估页打开", "{shown} products · Enter opens in Assess"),
    "register.failed": ("评估失败：{error}", "assessment failed: {error}"),
    "register.h.descriptions": ("描述（新的在前）", "Descriptions (newest first)"),
    "register.h.assessments": ("评估", "Assessments"),
    "register.h.decisions": ("复核决定（经审计日志验证）", "Decisions (verified in the audit log)"),
    "register.h.answers": ("保存的回答", "Saved answers"),
    "register.h.ticks": ("已勾选的步骤", "Ticked steps"),
    "register.rules_only": ("仅规则", "rules only"),
    "register.made_with": ("描述 v{v} · 规则库 {rb} · 模型 {m}", "description v{v} · rulebook {rb} · model {m}"),
    "register.with_answers": ("依据回答：{answers}", "with answers: {answers}"),
    "register.changed_from": ("（建议为 {tier}）", "(suggested {tier})"),
    "register.sorted": ("按{column}排序", "Sorted by {column}"),
    "register.sorted_desc": ("按{column}倒序排序", "Sorted by {column}, descending"),
    "register.opened": (
        "已打开 {id} {name}：回答和勾选会保存到登记册",
        "Opened {id} {name}: answers and ticks are saved to the register",
    ),
    "register.description_saved": (
        "已存为 {id} 的第 {version} 版描述",
        "Saved as version {version} of {id}'s description",
    ),
    "register.save_failed": ("未能保存到登记册（{id}）：{error}", "Not saved to the register ({id}): {error}"),
    "help.register": ("登记册页", "Register screen"),
    "help.open_product": ("在评估页打开所选产品", "Open the selected product in Assess"),
    # help
    "help.title": ("按键", "Keys"),
    "help.intro": (
        "描述一个 AI 产品，riskclass 给出建议的风险等级、理由和应履行的步骤。Ctrl+P 打开命令面板，可执行所有操作。",
        "Describe an AI product; riskclass suggests its risk tier, shows why and lists the steps it owes. "
        "Ctrl+P opens the command palette, which offers every action.",
    ),
    "help.everywhere": ("所有页面", "Everywhere"),
    "help.assess": ("评估页", "Assess screen"),
    "help.lists": ("结果中的列表", "Lists in the result"),
    "help.batch": ("批量页", "Batch screen"),
    "help.tab": ("在各区域之间移动焦点", "Move focus between areas"),
    "help.enter_citation": ("打开所选条文的原文", "Open the selected article"),
    "help.space_check": ("在清单中勾选/取消一项", "Tick or untick a checklist item"),
    "help.radio": ("在问题中选择 是/否/不确定，回车确认", "Choose yes/no/unknown in a question, Enter to confirm"),
    "help.palette": ("命令面板（所有操作）", "Command palette (every action)"),
    "help.complete": ("接受路径补全", "Accept the path completion"),
    "help.sort": ("点击列头排序", "Click a column header to sort"),
    "help.open_row": ("在评估页打开所选行", "Open the selected row in Assess"),
    "help.close": ("Esc 关闭", "Esc closes"),
    "help.mouse": ("鼠标", "Mouse"),
}

TIER_WORDS = {"high": ("高", "high"), "medium": ("中", "medium"), "low": ("低", "low")}


def t(key: str, lang: str, **values: object) -> str:
    """The string for `key` in `lang`. A missing key raises KeyError naming it: it fails in tests, not silently."""
    try:
        zh, en = STRINGS[key]
    except KeyError:
        raise KeyError(f"no UI string {key!r} in riskclass.tui.i18n.STRINGS") from None
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


# RiskclassError.title (riskclass.errors) → the notification title in each language.
ERROR_TITLES: dict[str, tuple[str, str]] = {
    "error": ("错误", "error"),
    "unusable input": ("输入无法使用", "unusable input"),
    "invalid rulebook": ("规则库无效", "invalid rulebook"),
    "unknown article": ("草案没有这一条", "unknown article"),
    "model problem": ("模型问题", "model problem"),
    "audit log": ("审计日志", "audit log"),
    "register": ("登记册", "register"),
}


def error_title(exc, lang: str) -> str:
    """A RiskclassError's title in `lang` (a title not listed is shown as it is)."""
    zh, en = ERROR_TITLES.get(exc.title, (exc.title, exc.title))
    return en if lang == "en" else zh


def label(key: str, lang: str):
    """A label the terminal renderer already defines (section headings, decided_by words, the disclaimer)."""
    return RENDER_LABELS["en" if lang == "en" else "zh"][key]


def other_language(lang: str) -> str:
    return "zh" if lang == "en" else "en"


def localize_bindings(node, lang: str) -> None:
    """Relabel a node's key bindings (footer, key panel) in `lang`.

    Textual bindings are class-level constants with one description; a bilingual footer needs them per language.
    Each node keeps its own copy of its bindings map (`_bindings`), so replacing descriptions there is local to
    that node. Only bindings with a `binding.<action>` string are touched.
    """
    bindings = node._bindings.key_to_bindings  # private in Textual, stable since 0.x; covered by test_tui.py
    for key, items in bindings.items():
        new = []
        for b in items:
            action = b.action.rpartition(".")[2].split("(")[0]
            k = f"binding.{action}"
            new.append(replace(b, description=t(k, lang), tooltip=t(k, lang)) if k in STRINGS else b)
        bindings[key] = new


def localize_tree(screen, lang: str) -> None:
    """Relabel the bindings of a screen and of every widget in it (the checklist's Space shows in the footer while
    it has the focus, so its label must follow the language too)."""
    localize_bindings(screen, lang)
    for node in screen.query("*"):
        if node._bindings.key_to_bindings:
            localize_bindings(node, lang)
