"""Texts people read in answers of the HTTP API, in Russian, in one place.

Package findings have their own catalogue (``validators/checks.py``); staff pages and
emails have their templates. Everything else a portal developer or a member may see in an
``{"error": {"message_ru": ...}}`` answer starts here, so wording is reviewed in one file.
"""

from __future__ import annotations

__all__ = [
    "FILE_TOO_LARGE",
    "FILES_TOO_LARGE",
    "FORM_MALFORMED",
    "TOO_MANY_PARTS",
    "FIELD_TOO_LONG",
    "REQUEST_TOO_LARGE",
    "REQUEST_TIMEOUT",
    "UPLOAD_TIMEOUT",
    "JSON_MALFORMED",
    "FORBIDDEN",
    "size_ru",
]

FILES_TOO_LARGE = "Файлы слишком большие."
FILE_TOO_LARGE = "Файл в поле {slot} слишком большой: не более {limit}."
FORM_MALFORMED = "Запрос повреждён: не удалось прочитать форму."
TOO_MANY_PARTS = "Слишком много частей в форме: не более {limit}."
FIELD_TOO_LONG = "Поле {name} слишком длинное."
REQUEST_TOO_LARGE = "Запрос слишком большой."
REQUEST_TIMEOUT = "Передача запроса прервалась. Повторите его."
UPLOAD_TIMEOUT = "Передача файла прервалась. Отправьте документ ещё раз."
JSON_MALFORMED = "Запрос повреждён: ожидается JSON."
FORBIDDEN = "Нет доступа к этому ресурсу."


def size_ru(size: int) -> str:
    """A byte count as people write it: «100 МБ», «64 КБ», «1 ГБ», else «1500 байт»."""
    for unit, name in ((1 << 30, "ГБ"), (1 << 20, "МБ"), (1 << 10, "КБ")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} байт"
