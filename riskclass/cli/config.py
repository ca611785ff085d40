"""`riskclass config`: where the config file is, and every setting with its value and where that value came from."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from riskclass.errors import ExitCode

WORDS = {
    "zh": {
        "file": "配置文件：{path}",
        "exists": "（存在）",
        "missing": "（不存在：全部使用环境变量或默认值）",
        "setting": "设置",
        "value": "值",
        "source": "来源",
        "none": "（未设置：终端应用用当前目录）",
        "sources": {"option": "命令行选项", "env": "环境变量 {env}", "file": "配置文件", "default": "默认值"},
        "hint": '格式见 README“配置文件”一节；例如：lang = "en"',
    },
    "en": {
        "file": "config file: {path}",
        "exists": " (exists)",
        "missing": " (not there: every setting from the environment or the defaults)",
        "setting": "setting",
        "value": "value",
        "source": "from",
        "none": "(not set: the terminal app uses the current directory)",
        "sources": {"option": "option", "env": "env {env}", "file": "file", "default": "default"},
        "hint": 'format: README, section "Config file"; for example: lang = "en"',
    },
}


def add_parser(subparsers: Any) -> None:
    """Register `riskclass config` on the CLI's subparsers."""
    from riskclass.cli.common import JSON_HELP
    from riskclass.cli.usage import bi

    p = subparsers.add_parser(
        "config",
        help=bi(
            "show the config file's place and every setting with where its value came from",
            "显示配置文件的位置，以及每项设置和其值的来源",
        ),
        description=bi(
            "Show where the config file is (config.toml in $RISKCLASS_CONFIG_DIR, $XDG_CONFIG_HOME/riskclass "
            "or ~/.config/riskclass) and every setting: its value and whether it came from a command-line option, an "
            "environment variable, the file or the default. Precedence: option > environment > file > default.",
            "显示配置文件的位置（$RISKCLASS_CONFIG_DIR、$XDG_CONFIG_HOME/riskclass 或 ~/.config/riskclass 中的 "
            "config.toml）和每项设置：其值，以及它来自命令行选项、环境变量、配置文件还是默认值。优先顺序：选项 > "
            "环境变量 > 配置文件 > 默认值。",
        ),
    )
    p.add_argument("--json", action="store_true", help=bi(JSON_HELP))
    p.add_argument(
        "--audit-log",
        metavar="PATH",
        help=bi("as the other commands take it, to see it win", "与其他命令的同名选项相同，用来查看它优先生效"),
    )
    p.add_argument(
        "--keyring",
        metavar="PATH",
        help=bi("as the other commands take it, to see it win", "与其他命令的同名选项相同，用来查看它优先生效"),
    )
    p.add_argument(
        "--register",
        metavar="PATH",
        help=bi(
            "as the register commands take it, to see it win", "与 register 命令的同名选项相同，用来查看它优先生效"
        ),
    )


def cmd_config(args: argparse.Namespace) -> int:
    from riskclass.config import ENV_VARS, describe, settings

    s = settings(
        lang=args.lang if args.settings.sources["lang"] == "option" else None,  # resolved once by the CLI
        audit_log=args.audit_log or getattr(args, "app_audit_log", None),
        keyring=args.keyring,
        register=args.register,
    )
    rows = describe(s)
    if args.json:
        out = {
            "path": str(s.path),
            "exists": s.exists,
            "settings": {name: {"value": value or None, "source": source} for name, value, source in rows},
            "warnings": [w.en for w in s.warnings],
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return ExitCode.OK
    W = WORDS[args.lang]
    print(W["file"].format(path=s.path) + (W["exists"] if s.exists else W["missing"]))
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        shown = value or W["none"]
        where = W["sources"][source].format(env=ENV_VARS[name])
        print(f"  {name:<{width}}  {shown}  [{where}]")
    if not s.exists:
        print(W["hint"])
    return ExitCode.OK
