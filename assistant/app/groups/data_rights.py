"""/export and /delete-my-data: a person's own data, as a zip or gone (PRD section 8.2).

``/delete-my-data`` answers with what it will delete and a one-time code; only
``/delete-my-data CONFIRM-<code>`` (within ten minutes) deletes.
"""

from __future__ import annotations

from assistant.app.command_registry import CommandContext, register
from assistant.app.data_rights import CONFIRM_TTL_S, Privacy
from assistant.app.events import OutEvent, artifact, say


@register("export", "/export — a zip of your data: your jobs and their files, your documents")
def export(ctx: CommandContext, args: str) -> list[OutEvent]:
    ctx.svc.repo.ensure_user(ctx.username)
    path = Privacy(ctx.svc).export(ctx.username)
    return [artifact(None, path, "application/zip"),
            say(None, "Your data, as JSON rows and the files themselves (README.txt in the zip "
                      "says what is where).")]


@register("delete-my-data", "/delete-my-data — delete everything of yours here (asks first)")
def delete_my_data(ctx: CommandContext, args: str) -> list[OutEvent]:
    privacy = Privacy(ctx.svc)
    ctx.svc.repo.ensure_user(ctx.username)
    if not args.strip():
        code = privacy.confirmation(ctx.username)
        return [say(None, "This deletes your jobs, their files and publications records, your "
                          "documents in the knowledge base, your webhooks, keys and billing "
                          "records, for good. To go ahead, send "
                          f"/delete-my-data CONFIRM-{code} within {CONFIRM_TTL_S // 60} "
                          "minutes (/export first if you want a copy).")]
    privacy.confirm(ctx.username, args)
    done = privacy.delete(ctx.username)
    return [say(None, f"Deleted: {done.jobs} jobs, {done.files} files, {done.knowledge_sources} "
                      f"documents and {sum(done.rows.values())} records. Nothing of yours is "
                      "left here.")]
