"""``dienynas gradebook …``: the gradebook's commands."""

from __future__ import annotations

import click

from gradebook.diary.cli import forget_diary_cache_command
from gradebook.lessons.cli import lessons_command

gradebook_cli = click.Group("gradebook", help="Lessons and the rest of the gradebook.")
gradebook_cli.add_command(lessons_command)
gradebook_cli.add_command(forget_diary_cache_command)
