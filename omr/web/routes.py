"""The desk's pages: queue, sheet, find a candidate, objections, keys, audit log.

Every handler reads through :class:`omr.web.data.SessionDesk` and acts through
:mod:`omr.workflow` (the functions the ``omr`` command calls). No handler
takes a file path from a request: sheets are looked up by their id in the
session's state, objections by number, and static files are served by
Starlette from the package's own folder.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from omr.errors import BadArgument, InputFileError, OmrError
from omr.score.scoring import mask_national_id
from omr.web import security
from omr.workflow import desk as wf
from omr.workflow import objections as wo
from omr.workflow.decisions import SHEET, parse_target, read_value, shown

SIGN_IN_DELAY = 0.5  # seconds a wrong password waits


def routes(d) -> list[Route]:
    """The routes of desk ``d`` (:class:`omr.web.app.Desk`)."""
    h = Handlers(d)
    return [
        Route("/", h.home),
        Route("/login", h.login, methods=["GET", "POST"]),
        Route("/lang", h.language, methods=["POST"]),
        Route("/queue", h.queue),
        Route("/sheet", h.sheet),
        Route("/sheet/decide", h.decide, methods=["POST"]),
        Route("/image/{kind:str}", h.image),
        Route("/find", h.find),
        Route("/objections", h.objections),
        Route("/objections/add", h.objection_add, methods=["POST"]),
        Route("/objections/{number:int}/decide", h.objection_decide, methods=["POST"]),
        Route("/objections/{number:int}/answer.pdf", h.objection_pdf),
        Route("/keys", h.keys),
        Route("/keys/preview", h.key_preview, methods=["POST"]),
        Route("/keys/apply", h.key_apply, methods=["POST"]),
        Route("/audit", h.audit),
    ]


def _filters(params) -> dict[str, str]:
    return {k: (params.get(k) or "").strip() for k in ("reason", "course")}


def _query(**values) -> str:
    kept = {k: v for k, v in values.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else ""


class Handlers:
    """The request handlers of one desk."""

    def __init__(self, d):
        self.d = d
        self.sd = d.sd

    # --- frame ----------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/queue", status_code=303)

    async def login(self, request: Request) -> Response:
        guard = self.d.guard
        if request.method == "GET":
            if guard.password is None:
                return RedirectResponse("/queue", status_code=303)
            return self.d.render(request, "login.html", title=self.d._("login.title"))
        form = await self.d.form(request)
        if guard.password is None:
            return RedirectResponse("/queue", status_code=303)
        if not guard.password_ok(form.get("password")):
            await asyncio.sleep(SIGN_IN_DELAY)
            return self.d.render(
                request,
                "login.html",
                401,
                title=self.d._("login.title"),
                error=self.d._("login.wrong"),
            )
        response = RedirectResponse("/queue", status_code=303)
        response.set_cookie(
            security.COOKIE,
            guard.cookie,
            httponly=True,
            samesite="strict",
            path="/",
            secure=self.d.secure,
        )
        return response

    async def language(self, request: Request) -> Response:
        """Remember this browser's language; back to the page it was chosen on (a desk path)."""
        from omr.web.app import LANG_COOKIE
        from omr.web.text import LANGS

        form = await self.d.form(request)
        lang = form.get("lang")
        back = form.get("next") or ""
        if not back.startswith("/") or back.startswith("//") or "\\" in back:
            back = "/queue"
        response = RedirectResponse(back, status_code=303)
        if lang in LANGS:
            response.set_cookie(
                LANG_COOKIE, lang, httponly=True, samesite="strict", path="/", secure=self.d.secure
            )
        return response

    # --- queue and sheet ----------------------------------------------------------

    def _filtered(self, reason: str, course: str) -> list[wf.QueueItem]:
        return [
            q
            for q in self.sd.queue()
            if (not reason or q.status == reason) and (not course or q.course == course)
        ]

    async def queue(self, request: Request) -> Response:
        f = _filters(request.query_params)
        everything = await asyncio.to_thread(self.sd.queue)
        rows = await asyncio.to_thread(self._filtered, **f)
        return self.d.render(
            request,
            "queue.html",
            title=self.d._("queue.title"),
            rows=rows,
            sheets=len(dict.fromkeys(q.sheet for q in rows)),
            reasons=sorted(Counter(q.status for q in everything).items()),
            courses=sorted(Counter(q.course for q in everything).items()),
            total=len(everything),
            query=_query(**f),
            **f,
        )

    def _sheet_context(self, sheet: str, reason: str, course: str, reveal: bool) -> dict:
        state = self.sd.state()
        try:
            read = state.read(sheet)
        except BadArgument as exc:
            raise HTTPException(404, str(exc)) from exc
        form, exam = state.session.form, state.exam
        order = list(dict.fromkeys(q.sheet for q in self._filtered(reason, course)))
        held = [q for q in self.sd.queue() if q.sheet == sheet]
        pos = order.index(sheet) if sheet in order else None
        if pos is None:
            prev_sheet, next_sheet = None, order[0] if order else None
        else:
            prev_sheet = order[pos - 1] if pos > 0 else None
            next_sheet = order[pos + 1] if pos + 1 < len(order) else None
        names = list(dict.fromkeys(n for q in held for n in q.fields if n != SHEET))
        fields = [self._field(state, read, n) for n in names] if read.ok else []
        fields.append(self._field(state, read, SHEET))
        identity = {}
        if read.ok:
            number = read.fields["student_number"].text() if "student_number" in read.fields else ""
            nid = read.fields["national_id"].text() if "national_id" in read.fields else ""
            identity = {
                "student": number,
                "national_id": nid if reveal else mask_national_id(nid),
                "has_national_id": bool(nid),
                "name": self.sd.name_of(number),
                "hall": read.fields["hall"].text() if "hall" in read.fields else "",
                "seat": read.fields["seat"].text() if "seat" in read.fields else "",
                "group": read.fields["group"].text() if "group" in read.fields else "",
            }
        return {
            "sheet": sheet,
            "read": read,
            "held": held,
            "fields": fields,
            "identity": identity,
            "reveal": reveal,
            "results": state.sheet_rows(sheet),
            "doubts": self._doubts(sheet, read) if read.ok else [],
            "prev_sheet": prev_sheet,
            "next_sheet": next_sheet,
            "position": (pos + 1) if pos is not None else None,
            "in_queue": len(order),
            "reason": reason,
            "course": course,
            "score_text": wf.result_text,
            "exam": exam,
            "form": form,
        }

    def _field(self, state, read, name: str) -> dict:
        """One field of the decision form: its label, what it says now, its options and keys."""
        target = parse_target(name, state.exam, state.session.form)
        if target.field == SHEET:
            opts = [("score", "s"), ("void", "v")]
            return {"name": name, "label": SHEET, "now": "", "kind": SHEET, "options": opts}
        field = state.session.form.layout.fields[target.field]
        now = shown(target, read_value(read, target)) if target.field in read.fields else ""
        if field.kind in ("answers", "group"):
            opts = [(o, o.lower()) for o in field.option_labels] + [("blank", "-")]
        elif field.kind == "box":
            opts = [("marked", "m"), ("blank", "-")]
        else:
            opts = []
        return {
            "name": name,
            "label": target.label,
            "now": now,
            "kind": field.kind,
            "options": opts,
        }

    def _doubts(self, sheet: str, read) -> list[dict]:
        """Each item left in doubt with every option's numbers (darkness, ring, dark share)."""
        from omr.annotate import doubt_items

        state = self.sd.state()
        form = state.session.form
        measured = self.sd.measured(sheet)
        labels = {c.block: c.code for c in state.exam.courses}
        marks = {
            (m.get("field"), m.get("item"), m.get("option")): m
            for m in measured.media.get("marks", [])
        }
        out = []
        for name, i in doubt_items(read, form):
            f = measured.fields.get(name)
            if f is None or not f.darkness:
                continue
            item = read.fields[name].items[i]
            where = f"{labels[name]} q{i + 1}" if name in labels else f"{name} #{i + 1}"
            options = []
            for j, option in enumerate(form.layout.fields[name].option_labels):
                m = marks.get((name, i, option), {})
                options.append(
                    {
                        "option": option,
                        "darkness": f.darkness[i][j],
                        "ring": f.ring[i][j] if f.ring else None,
                        "cover": f.cover[i][j] if f.cover else None,
                        "medium": m.get("medium", ""),
                        "chroma": m.get("chroma"),
                        "unsure": option in item.unsure,
                        "marked": option in item.value,
                    }
                )
            out.append({"where": where, "reason": item.reason, "options": options})
        return out

    async def sheet(self, request: Request) -> Response:
        params = request.query_params
        sheet = (params.get("id") or "").strip()
        f = _filters(params)
        reveal = params.get("reveal") == "1"
        context = await asyncio.to_thread(
            self._sheet_context, sheet, f["reason"], f["course"], reveal
        )
        return self.d.render(
            request,
            "sheet.html",
            title=self.d._("sheet.title", sheet=sheet),
            query=_query(**f),
            **context,
        )

    async def decide(self, request: Request) -> Response:
        form = await self.d.form(request)
        sheet = (form.get("sheet") or "").strip()
        f = _filters(form)
        values = [
            (name, value.strip())
            for name, value in zip(form.getlist("field"), form.getlist("value"), strict=False)
            if value.strip()
        ]
        here = "/sheet" + _query(id=sheet, **f)
        queue = await asyncio.to_thread(self._filtered, **f)
        order = list(dict.fromkeys(q.sheet for q in queue))
        after = order[order.index(sheet) + 1 :] if sheet in order else order
        try:
            done = await self.d.act(
                wf.set_reviews,
                self.sd.out,
                sheet,
                values,
                by=form.get("by") or "",
                why=form.get("why") or "",
                session_root=self.sd.session_root,
            )
        except OmrError as exc:
            return self.d.redirect(here, "error", f"{exc} — {self.d._('error.changed')}")
        changes = "; ".join(f"{x.target}: {x.before} -> {x.after}" for x in done)
        still = any(x.in_doubt for x in done)
        text = self.d._("sheet.saved", sheet=sheet, changes=changes) + " ("
        text += self.d._("sheet.still" if still else "sheet.cleared") + ")"
        if still:
            return self.d.redirect(here, "ok", text)
        left = {q.sheet for q in await asyncio.to_thread(self.sd.queue)}
        following = [s for s in after if s in left and s != sheet]
        if following:
            return self.d.redirect("/sheet" + _query(id=following[0], **f), "ok", text)
        return self.d.redirect("/queue" + _query(**f), "ok", text)

    async def image(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        sheet = (request.query_params.get("id") or "").strip()
        if kind not in ("annotated", "doubt", "scan"):
            raise HTTPException(404)
        try:
            if kind == "scan":
                png = await asyncio.to_thread(self.sd.scan, sheet)
            else:
                picture = await asyncio.to_thread(self.sd.picture, sheet)
                png = picture.png if kind == "annotated" else picture.doubt
        except (BadArgument, InputFileError) as exc:
            raise HTTPException(404, str(exc)) from exc
        if png is None:
            raise HTTPException(404)
        return Response(png, media_type="image/png")

    # --- find a candidate ---------------------------------------------------------

    def _candidate(self, student: str) -> dict:
        found = wf.show_candidate(
            self.sd.out, student, session_root=self.sd.session_root, pictures=False
        )
        sheets = {read.sheet_id for read, _ in found.sheets}
        from omr.store import Store
        from omr.workflow.records import stored_decisions

        with Store(wf.store_path(self.sd.out)) as store:
            decisions = [d for d in stored_decisions(store) if d.sheet_id in sheets]
        codes = {c.block: c.code for c in self.sd.state().exam.courses}
        decided = [
            (d, f"{codes[d.field]} q{d.item + 1}" if d.field in codes and d.item >= 0 else d.field)
            for d in decisions
        ]
        history = wf.key_history(self.sd.out, self.sd.session_root)
        moves = []
        for v in history[1:]:
            _, _, changes = wf.key_diff(
                self.sd.out, v.version - 1, v.version, session_root=self.sd.session_root
            )
            moves += [(v, c) for c in changes if c.sheet in sheets]
        mine = [o for o in wo.objections(self.sd.out) if o.sheet in sheets]
        return {
            "found": found,
            "name": self.sd.name_of(found.student),
            "decisions": decided,
            "moves": moves,
            "objections": mine,
            "score_text": wf.result_text,
        }

    async def find(self, request: Request) -> Response:
        student = (request.query_params.get("student") or "").strip()
        context: dict = {"student": student, "found": None, "error": ""}
        if student:
            try:
                context.update(await asyncio.to_thread(self._candidate, student))
            except OmrError as exc:
                context["error"] = str(exc)
        return self.d.render(
            request,
            "find.html",
            200 if not context["error"] else 404,
            title=self.d._("find.title"),
            **context,
        )

    # --- objections ---------------------------------------------------------------

    def _objections_context(self) -> dict:
        state = self.sd.state()
        found = wo.objections(self.sd.out)
        return {
            "objections": found,
            "windows": wo.windows(state),
            "courses": state.exam.courses,
            "today": dt.date.today().isoformat(),
            "answered": {o.id for o in found if wo.answer_path(self.sd.out, o.id).is_file()},
        }

    async def objections(self, request: Request) -> Response:
        context = await asyncio.to_thread(self._objections_context)
        return self.d.render(request, "objections.html", title=self.d._("obj.title"), **context)

    async def objection_add(self, request: Request) -> Response:
        form = await self.d.form(request)
        item_text = (form.get("item") or "").strip()
        try:
            if item_text and not item_text.isdigit():
                raise BadArgument(f"--item {item_text!r}: give the item number")
            o = await self.d.act(
                wo.add_objection,
                self.sd.out,
                student=form.get("student") or "",
                course=form.get("course") or "",
                kind=form.get("kind") or "",
                date=form.get("date") or "",
                text=form.get("text") or "",
                by=form.get("by") or "",
                item=int(item_text) if item_text else None,
                session_root=self.sd.session_root,
            )
        except OmrError as exc:
            return self.d.redirect("/objections", "error", f"{exc} — {self.d._('error.changed')}")
        if o.on_time:
            text = self.d._("obj.recorded", n=o.id, deadline=o.deadline)
        else:
            text = self.d._("obj.refused", n=o.id, filed=o.filed_on, deadline=o.deadline)
        return self.d.redirect("/objections", "ok" if o.on_time else "error", text)

    async def objection_decide(self, request: Request) -> Response:
        form = await self.d.form(request)
        number = request.path_params["number"]
        accept = form.get("decision") == "accept"
        change = form.get("change") or ""
        option = (form.get("option") or "").strip()
        sets = tuple(s.strip() for s in (form.get("sets") or "").split(";") if s.strip())
        try:
            if form.get("decision") not in ("accept", "reject"):
                raise BadArgument("give --accept or --reject")
            o, _pdf = await self.d.act(
                wo.decide_objection,
                self.sd.out,
                number,
                accept=accept,
                by=form.get("by") or "",
                why=form.get("why") or "",
                cancel=accept and change == "cancel",
                also=option if accept and change == "also" else None,
                key=option if accept and change == "key" else None,
                sets=sets if accept and change == "sets" else (),
                session_root=self.sd.session_root,
            )
        except OmrError as exc:
            return self.d.redirect("/objections", "error", f"{exc} — {self.d._('error.changed')}")
        dec = o.decision
        text = self.d._(
            "obj.decided",
            n=o.id,
            state=self.d._(f"obj.state.{o.state}"),
            change=dec["change"],
            before=dec["score_before"],
            after=dec["score_after"],
        )
        return self.d.redirect("/objections", "ok", text)

    async def objection_pdf(self, request: Request) -> Response:
        number = request.path_params["number"]
        known = {o.id for o in await asyncio.to_thread(wo.objections, self.sd.out)}
        path = wo.answer_path(self.sd.out, number)
        if number not in known or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, media_type="application/pdf", filename=f"objection-{number}.pdf")

    # --- keys -----------------------------------------------------------------------

    def _keys_context(self) -> dict:
        history = wf.key_history(self.sd.out, self.sd.session_root)
        state = self.sd.state()
        latest = history[-1]
        table = []
        for c in state.exam.courses:
            groups = []
            for g, tokens in latest.keys.get(c.code, {}).items():
                order = c.master_order(g)
                groups.append(
                    (g, list(zip(range(1, len(tokens) + 1), order, tokens, strict=False)))
                )
            table.append((c, groups))
        return {
            "history": history,
            "latest": latest,
            "table": table,
            "courses": state.exam.courses,
            "groups": state.exam.groups,
        }

    async def keys(self, request: Request) -> Response:
        context = await asyncio.to_thread(self._keys_context)
        return self.d.render(request, "keys.html", title=self.d._("keys.title"), **context)

    @staticmethod
    def _key_args(form) -> dict:
        item_text = (form.get("item") or "").strip()
        if not item_text.isdigit():
            raise BadArgument(f"ITEM {item_text!r}: give the item number")
        action = form.get("action") or ""
        if action not in ("cancel", "accept", "set"):
            raise BadArgument(f"unknown key action {action!r}: give cancel, accept or set")
        return {
            "action": action,
            "course": (form.get("course") or "").strip(),
            "item": int(item_text),
            "option": (form.get("option") or "").strip() or None,
            "group": (form.get("group") or "").strip() or None,
        }

    async def key_preview(self, request: Request) -> Response:
        form = await self.d.form(request)
        try:
            args = self._key_args(form)
            from omr.workflow.audit import check_person

            by, why = check_person(form.get("by") or "", form.get("why") or "")
            preview = await self.d.act(
                wf.preview_key_change,
                self.sd.out,
                args["action"],
                args["course"],
                args["item"],
                args["option"] if args["action"] != "cancel" else None,
                args["group"] if args["action"] == "set" else None,
                session_root=self.sd.session_root,
            )
        except OmrError as exc:
            return self.d.redirect("/keys", "error", f"{exc} — {self.d._('error.changed')}")
        return self.d.render(
            request,
            "key_preview.html",
            title=self.d._("keys.preview_title"),
            preview=preview,
            args=args,
            by=by,
            why=why,
        )

    async def key_apply(self, request: Request) -> Response:
        form = await self.d.form(request)
        out, root = self.sd.out, self.sd.session_root

        def apply(args: dict, then: int):
            """The change, unless the key moved on since the preview (then None, the version)."""
            now = wf.key_history(out, root)[-1].version
            if now != then:
                return None, now
            return wf.change_key(
                out,
                args["action"],
                args["course"],
                args["item"],
                args["option"] if args["action"] != "cancel" else None,
                args["group"] if args["action"] == "set" else None,
                by=form.get("by") or "",
                why=form.get("why") or "",
                session_root=root,
            ), now

        try:
            args = self._key_args(form)
            then = int(form.get("version") or 0) if (form.get("version") or "").isdigit() else 0
            outcome, now = await self.d.act(apply, args, then)
        except OmrError as exc:
            return self.d.redirect("/keys", "error", f"{exc} — {self.d._('error.changed')}")
        if outcome is None:
            return self.d.redirect("/keys", "error", self.d._("keys.stale", now=now, then=then))
        text = self.d._(
            "keys.applied",
            v=outcome.version,
            target=outcome.target,
            before=outcome.before,
            after=outcome.after,
            n=len(outcome.changes),
        )
        return self.d.redirect("/keys", "ok", text)

    # --- audit ----------------------------------------------------------------------

    async def audit(self, request: Request) -> Response:
        from omr.store import Store
        from omr.workflow.audit import audit_log

        def entries():
            with Store(wf.store_path(self.sd.out)) as store:
                return audit_log(store)

        found = await asyncio.to_thread(entries)
        return self.d.render(request, "audit.html", title=self.d._("audit.title"), entries=found)
