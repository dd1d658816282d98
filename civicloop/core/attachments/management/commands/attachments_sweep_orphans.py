"""Delete attachment files that no row references (see services.attachments_sweep_orphans)."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand

from civicloop.core.attachments.services import attachments_sweep_orphans


class Command(BaseCommand):
    help = "删除没有附件记录引用的孤立文件（超过宽限期的）"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--older-than-hours",
            type=float,
            default=24.0,
            help="只删除早于这么多小时的文件（默认 24），给进行中的事务留出时间",
        )
        parser.add_argument("--dry-run", action="store_true", help="只列出，不删除")

    def handle(self, *args: Any, **options: Any) -> None:
        names = attachments_sweep_orphans(
            older_than=timedelta(hours=options["older_than_hours"]),
            dry_run=options["dry_run"],
        )
        for name in names:
            self.stdout.write(name)
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(f"{verb} {len(names)} orphan file(s)")
