"""Every string the review desk shows, in Turkish and English, kept in one place.

A key maps to its Turkish and English text (``str.format`` fields allowed);
:func:`translate` picks one. When the project's gettext catalogues land, these
pairs move there unchanged. Messages raised by the workflow layer
(:class:`omr.errors.BadArgument`) are shown as the layer words them.
"""

from __future__ import annotations

LANGS = ("tr", "en")
DEFAULT_LANG = "tr"

TEXT: dict[str, tuple[str, str]] = {
    # navigation and frame
    "app.title": ("Değerlendirme masası", "Review desk"),
    "nav.queue": ("İnceleme kuyruğu", "Review queue"),
    "nav.find": ("Aday bul", "Find a candidate"),
    "nav.objections": ("İtirazlar", "Objections"),
    "nav.keys": ("Cevap anahtarları", "Answer keys"),
    "nav.audit": ("İşlem kaydı", "Audit log"),
    "frame.session": ("Oturum", "Session"),
    "frame.keys_help": (
        "Kısayollar: j/k satır, Enter aç; n/p sonraki/önceki kâğıt; seçenek harfi alanı "
        "doldurur, - boş, Enter kaydeder; ] ya da + yakınlaştır, [ uzaklaştır; o işaretli/tarama",
        "Keys: j/k row, Enter open; n/p next/previous sheet; an option letter fills the field, "
        "- blank, Enter saves; ] or + zoom in, [ zoom out; o annotated/scan",
    ),
    "error.title": ("Hata", "Error"),
    "error.not_found": ("Bulunamadı.", "Not found."),
    "error.csrf": (
        "Form belirteci eksik ya da geçersiz: sayfayı yenileyip yeniden deneyin. Hiçbir şey "
        "değişmedi.",
        "The form token is missing or wrong: reload the page and try again. Nothing changed.",
    ),
    "error.origin": (
        "İstek başka bir siteden geldi: reddedildi, hiçbir şey değişmedi.",
        "The request came from another site: refused, nothing changed.",
    ),
    "error.host": ("Bu adla erişilemez.", "Not served under this name."),
    "error.changed": ("Hiçbir şey değişmedi.", "Nothing changed."),
    # login
    "login.title": ("Giriş", "Sign in"),
    "login.password": ("Parola", "Password"),
    "login.submit": ("Giriş", "Sign in"),
    "login.wrong": ("Parola yanlış.", "Wrong password."),
    # queue
    "queue.title": ("İnceleme kuyruğu", "Review queue"),
    "queue.empty": ("İncelenecek kâğıt yok.", "Nothing to review."),
    "queue.count": ("{n} satır, {sheets} kâğıt", "{n} line(s), {sheets} sheet(s)"),
    "queue.reason": ("Neden", "Reason"),
    "queue.course": ("Ders", "Course"),
    "queue.all": ("tümü", "all"),
    "queue.filter": ("Süz", "Filter"),
    "queue.sheet": ("Kâğıt", "Sheet"),
    "queue.detail": ("Ne görülmeli", "What to look at"),
    "queue.decide": ("Karar verilecek", "To decide"),
    "queue.open": ("aç", "open"),
    "queue.by_reason": ("Nedene göre", "By reason"),
    "queue.by_course": ("Derse göre", "By course"),
    "queue.no_course": ("(kâğıdın tamamı)", "(the whole sheet)"),
    # sheet
    "sheet.title": ("Kâğıt {sheet}", "Sheet {sheet}"),
    "sheet.source": ("{source}, sayfa {page}", "{source}, page {page}"),
    "sheet.prev": ("← önceki (p)", "← previous (p)"),
    "sheet.next": ("sonraki (n) →", "next (n) →"),
    "sheet.position": ("kuyrukta {i} / {n}", "{i} of {n} in the queue"),
    "sheet.not_in_queue": ("Bu kâğıt kuyrukta değil.", "This sheet is not in the queue."),
    "sheet.results": ("Sonuçlar", "Results"),
    "sheet.identity": ("Kimlik", "Identity"),
    "sheet.student": ("Öğrenci no", "Student number"),
    "sheet.national_id": ("T.C. kimlik no", "National ID"),
    "sheet.reveal": ("göster", "show"),
    "sheet.hide": ("gizle", "hide"),
    "sheet.name": ("Ad (listeden)", "Name (roster)"),
    "sheet.hall_seat": ("Salon / sıra", "Hall / seat"),
    "sheet.group": ("Kitapçık", "Booklet"),
    "sheet.why_held": ("Neden bekliyor", "Why it is held"),
    "sheet.decide": ("Karar", "Decision"),
    "sheet.field": ("Alan", "Field"),
    "sheet.now": ("Şu an", "Now"),
    "sheet.value": ("Değer", "Value"),
    "sheet.whole": (
        "Kâğıdın tamamı (isteğe bağlı): score = okunduğu gibi say, void = geçersiz",
        "The whole sheet (optional): score = count as read, void = void",
    ),
    "sheet.by": ("Karar veren", "Decided by"),
    "sheet.why": ("Gerekçe", "Reason"),
    "sheet.save": ("Kaydet ve sonrakine geç", "Save and go to the next sheet"),
    "sheet.saved": ("{sheet}: {changes}", "{sheet}: {changes}"),
    "sheet.still": ("hâlâ incelemede", "still in review"),
    "sheet.cleared": ("incelemeden çıktı", "out of review"),
    "sheet.doubts": ("Şüpheli maddeler", "Items in doubt"),
    "sheet.option": ("Seçenek", "Option"),
    "sheet.darkness": ("Koyuluk", "Darkness"),
    "sheet.ring": ("Halka", "Ring"),
    "sheet.cover": ("Dolu pay", "Dark share"),
    "sheet.medium": ("Kalem", "Medium"),
    "sheet.picture": ("Tarama", "Scan"),
    "sheet.annotated": ("İşaretli", "Annotated"),
    "sheet.scan": ("Tarama", "Scan"),
    "sheet.zoom_in": ("Yakınlaştır (])", "Zoom in (])"),
    "sheet.zoom_out": ("Uzaklaştır ([)", "Zoom out ([)"),
    "sheet.toggle": ("İşaretli / tarama (o)", "Annotated / scan (o)"),
    "sheet.legend": (
        "Yeşil işaretli, gri boş, turuncu şüpheli, mor silinti, kırmızı mürekkep, mavi "
        "kişinin kararı",
        "Green marked, grey blank, orange unsure, purple erasure, red ink, blue decided by a "
        "person",
    ),
    "sheet.no_picture": ("Resim çizilemedi: {why}", "The picture could not be drawn: {why}"),
    "sheet.blank": ("boş", "blank"),
    # find
    "find.title": ("Aday bul", "Find a candidate"),
    "find.student": ("Öğrenci no", "Student number"),
    "find.submit": ("Bul", "Find"),
    "find.sheet": ("Kâğıt {sheet}", "Sheet {sheet}"),
    "find.history": ("Geçmiş", "History"),
    "find.decisions": ("Kararlar", "Decisions"),
    "find.key_changes": (
        "Puanını değiştiren anahtar sürümleri",
        "Key versions that changed the score",
    ),
    "find.no_history": ("Kayıt yok.", "None."),
    "find.objections": ("İtirazları", "Objections"),
    # results table
    "col.course": ("Ders", "Course"),
    "col.group": ("Kitapçık", "Booklet"),
    "col.status": ("Durum", "Status"),
    "col.score": ("Puan", "Score"),
    "col.answers": ("Okunan cevaplar", "Answers read"),
    "col.flags": ("İşaretler", "Flags"),
    "col.at": ("Zaman", "When"),
    "col.by": ("Kim", "Who"),
    "col.command": ("Komut", "Command"),
    "col.target": ("Konu", "What"),
    "col.before": ("Önce", "Before"),
    "col.after": ("Sonra", "After"),
    "col.why": ("Gerekçe", "Why"),
    "col.version": ("Sürüm", "Version"),
    "col.old": ("Eski", "Old"),
    "col.new": ("Yeni", "New"),
    "col.student": ("Öğrenci no", "Student"),
    "col.sheet": ("Kâğıt", "Sheet"),
    "col.field": ("Alan", "Field"),
    "col.value": ("Değer", "Value"),
    "col.number": ("No", "No"),
    "col.kind": ("Tür", "Kind"),
    "col.item": ("Madde", "Item"),
    "col.filed": ("Başvuru", "Filed"),
    "col.deadline": ("Son gün", "Deadline"),
    "col.state": ("Durum", "State"),
    "col.text": ("Metin", "Text"),
    "col.answer": ("Cevap yazısı", "Answer"),
    # objections
    "obj.title": ("İtirazlar", "Objections"),
    "obj.windows": ("İtiraz süreleri", "Objection windows"),
    "obj.window.question": ("Soru itirazı", "Question objection"),
    "obj.window.result": ("Sonuç itirazı", "Result objection"),
    "obj.window.line": (
        "{start} tarihinden sayılır, son gün {deadline} ({days} iş günü)",
        "counted from {start}, last day {deadline} ({days} business days)",
    ),
    "obj.window.skipped": ("sayılmayan günler: {days}", "days not counted: {days}"),
    "obj.none": ("Henüz itiraz yok.", "No objection yet."),
    "obj.add": ("İtiraz kaydet", "File an objection"),
    "obj.student": ("Öğrenci no", "Student number"),
    "obj.course": ("Ders", "Course"),
    "obj.kind": ("Tür", "Kind"),
    "obj.kind.question": ("soru", "question"),
    "obj.kind.result": ("sonuç", "result"),
    "obj.date": ("Başvuru tarihi", "Date filed"),
    "obj.item": ("Madde (soru itirazında, ana sıra)", "Item (question objection, master order)"),
    "obj.text": ("Adayın dilekçesi", "What the candidate says"),
    "obj.by": ("Kaydeden", "Recorded by"),
    "obj.submit": ("Kaydet", "Record"),
    "obj.recorded": (
        "İtiraz {n} kaydedildi: süresinde (son gün {deadline}).",
        "Objection {n} recorded: on time (deadline {deadline}).",
    ),
    "obj.refused": (
        "İtiraz {n} kaydedildi ve reddedildi: {filed} tarihinde, son gün {deadline} geçtikten "
        "sonra.",
        "Objection {n} recorded and refused: filed {filed}, after the deadline {deadline}.",
    ),
    "obj.decide": ("Karar ver", "Decide"),
    "obj.accept": ("Kabul", "Accept"),
    "obj.reject": ("Ret", "Reject"),
    "obj.change": ("Kabulde yapılacak değişiklik", "What accepting changes"),
    "obj.change.cancel": ("maddeyi iptal et", "cancel the item"),
    "obj.change.also": ("bu seçeneği de doğru say", "accept this option too"),
    "obj.change.key": ("anahtarı düzelt", "correct the key"),
    "obj.change.sets": (
        "okumayı düzelt (ALAN=DEĞER; ile ayrılır, ör. TUR101:5=B)",
        "correct the read (FIELD=VALUE; separated, e.g. TUR101:5=B)",
    ),
    "obj.decided": (
        "İtiraz {n}: {state}; {change}; puan {before} → {after}",
        "Objection {n}: {state}; {change}; score {before} -> {after}",
    ),
    "obj.download": ("PDF indir", "Download PDF"),
    "obj.state.open": ("açık", "open"),
    "obj.state.refused-late": ("süresi geçmiş, reddedildi", "refused, late"),
    "obj.state.accepted": ("kabul edildi", "accepted"),
    "obj.state.rejected": ("reddedildi", "rejected"),
    # keys
    "keys.title": ("Cevap anahtarları", "Answer keys"),
    "keys.in_force": ("Yürürlükteki anahtar: v{v}", "Key in force: v{v}"),
    "keys.printed": (
        "Kitapçıkta basıldığı sırayla; parantez içinde ana madde numarası; * iptal, B|C iki doğru",
        "In printed order; the master item number in brackets; * cancelled, B|C two right answers",
    ),
    "keys.change": ("Anahtarı değiştir", "Change the key"),
    "keys.action": ("İşlem", "Action"),
    "keys.action.cancel": ("maddeyi iptal et (ana madde)", "cancel the item (master item)"),
    "keys.action.accept": (
        "bir seçeneği de doğru say (ana madde)",
        "accept another option (master item)",
    ),
    "keys.action.set": (
        "bir kitapçığın anahtarını düzelt (basılı soru)",
        "correct one booklet's key (printed question)",
    ),
    "keys.course": ("Ders", "Course"),
    "keys.item": ("Madde", "Item"),
    "keys.option": ("Seçenek", "Option"),
    "keys.group": ("Kitapçık (yalnız düzeltmede)", "Booklet (correcting only)"),
    "keys.by": ("Karar veren", "Decided by"),
    "keys.why": ("Gerekçe", "Reason"),
    "keys.preview": ("Önce kimin puanı değişir, göster", "Show whose score moves first"),
    "keys.preview_title": ("Önizleme: henüz uygulanmadı", "Preview: not applied yet"),
    "keys.preview_line": (
        "v{v} üzerine: {target}: {before} → {after}",
        "After v{v}: {target}: {before} -> {after}",
    ),
    "keys.moves": ("{n} sonuç değişecek", "{n} result(s) will change"),
    "keys.apply": ("Uygula", "Apply"),
    "keys.back": ("Vazgeç", "Cancel"),
    "keys.applied": (
        "Anahtar v{v}: {target}: {before} → {after}; {n} sonuç değişti",
        "Key v{v}: {target}: {before} -> {after}; {n} result(s) changed",
    ),
    "keys.stale": (
        "Önizlemeden sonra anahtar değişti (şimdi v{now}, önizleme v{then}): yeniden "
        "önizleyin. Hiçbir şey değişmedi.",
        "The key changed after the preview (now v{now}, previewed v{then}): preview again. "
        "Nothing changed.",
    ),
    "keys.history": ("Sürümler", "Versions"),
    # audit
    "audit.title": ("İşlem kaydı", "Audit log"),
    "audit.none": ("Henüz işlem yok.", "No act yet."),
}


def translate(key: str, lang: str, **values: object) -> str:
    """The text of ``key`` in ``lang`` (``tr`` or ``en``), with ``values`` filled in."""
    pair = TEXT.get(key)
    if pair is None:
        return key
    text = pair[LANGS.index(lang) if lang in LANGS else 0]
    return text.format(**values) if values else text
