"""Texts people read in answers of the HTTP API, in Russian, in one place.

Package findings have their own catalogue (``validators/checks.py``); staff pages and
emails have their templates. Everything else a portal developer or a member may see in an
``{"error": {"message_ru": ...}}`` answer starts here, and so do the texts the staff pages'
code puts into those templates (form errors, member list problems, the export header), so
wording is reviewed in one file.
"""

from __future__ import annotations

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

# --- answers of the HTTP API (error.message_ru), by error code -------------------------------

REQUEST_EXTERNAL_ID_CONFLICT = "Этот external_id уже использован для другого пакета (другой кооператив, вид документа или файлы). Для нового пакета укажите новый external_id."
REQUEST_MALFORMED = "Запрос повреждён и не может быть прочитан."
INTERNAL = "Внутренняя ошибка шлюза. Повторите попытку позже."
AUTH_MISSING_KEY = "Нет доступа: не указан или неверен ключ API."
MEMBER_UNKNOWN = "Кооператив не найден среди действующих членов СРО."
NOTICE_TITLE = "Не указано название документа."
NOTICE_TEXT = "Не указаны тема или текст рассылки."
NOTICE_KIND = "Неизвестный вид уведомления: ожидается document или mass."
JSON_OBJECT_EXPECTED = "Запрос повреждён: ожидается объект JSON."
EVENT_DECISION = "Неизвестное решение: ожидается verified, returned или rejected."
SUBMISSION_NOT_FOUND = "Пакет не найден."
EVENT_NOT_REGISTERED = "Пакет ещё не зарегистрирован в реестре."
FILE_UPLOAD_TIMEOUT = "Передача файла прервалась. Отправьте файл ещё раз."
REQUEST_MISSING_FIELD = "Не заполнены обязательные поля: "
REQUEST_NO_FILES = "Не приложены файлы."
STORAGE_BUSY = "Шлюз временно занят. Повторите отправку через несколько минут."
STORAGE_FULL = "Шлюз временно не может принять файлы. Повторите отправку позже."
OTHER_MEMBERS_REPORT = "Нет доступа к отчёту другого кооператива."
REQUEST_MEMBER = "Укажите номер кооператива в реестре СРО (параметр member)."
REQUEST_CURSOR = "Неверный параметр cursor: используйте значение next_cursor из предыдущего ответа."
REQUEST_REVOCATION = "Неверное значение параметра revocation."
REQUEST_NO_DOCUMENT = "Не передан файл документа (поле document)."
WEBHOOK_BODY_EXPECTED = "Запрос повреждён: ожидается объект JSON с полем url."
WEBHOOK_URL = "Неверный адрес для уведомлений: ожидается URL http или https."
WEBHOOK_SECRET = "Секрет для подписи уведомлений должен быть строкой от 16 до 256 символов."  # noqa: S105 - an error message about the secret, not a secret
WEBHOOK_NOT_FOUND = "Адрес для уведомлений не найден."
WEBHOOK_URL_NOT_PUBLIC = (
    "Адрес для уведомлений указывает на внутреннюю сеть (локальный, частный или служебный IP-адрес): "
    "уведомления отправляются только на публичные адреса. Если получатель во внутренней сети, "
    "оператор шлюза должен разрешить его в настройке [webhooks] allow_hosts."
)
UNKNOWN_DOC_TYPE = "Неизвестный вид документа «{value}». Допустимые значения doc_type: {allowed}."
REPORT_KIND_REQUIRED = "Для отчётности укажите вид отчёта (report_kind): {allowed}."
UNKNOWN_REPORT_KIND = "Неизвестный вид отчёта «{value}». Допустимые значения report_kind: {allowed}."
REGULATION_KIND_REQUIRED = "Для положения укажите его вид (regulation_kind): {allowed}."
UNKNOWN_REGULATION_KIND = "Неизвестный вид положения «{value}». Допустимые значения regulation_kind: {allowed}."
BAD_REPORT_YEAR = "Неверный отчётный год (report_year): ожидается год от {first} до следующего."
BAD_REPORT_YEAR_DIGITS = "Неверный отчётный год (report_year): ожидается год из четырёх цифр."
UNKNOWN_MEMBER_NUMBER = "Кооператив с номером «{value}» не найден в реестре членов СРО."
BAD_DATE = "Неверная дата в поле {name}: ожидается ГГГГ-ММ-ДД или ДД.ММ.ГГГГ."
BAD_LIMIT = "Параметр limit должен быть от 1 до {limit}."
HTTP_ERROR = "Запрос не может быть выполнен."
VERIFY_FORM_EXPECTED = "Ожидается форма multipart/form-data с файлами document и signature."
SUBMISSION_FORM_EXPECTED = "Ожидается форма multipart/form-data."
MEMBERS_FORM_EXPECTED = "Ожидается форма multipart/form-data с файлом CSV."

# --- staff workspace ---------------------------------------------------------------------------

SESSION_ENDED = "Сеанс завершён. Войдите снова."
CSRF_REFUSED = "Форма устарела или подделана (CSRF). Обновите страницу и повторите."
LOGIN_WRONG = "Неверное имя пользователя или пароль."
LOGIN_LOCKED = "Слишком много неудачных попыток. Учётная запись временно заблокирована, повторите позже."
LOGIN_CSRF = "Форма устарела. Повторите вход."
LOGIN_THROTTLED = "Слишком много попыток входа с вашего адреса. Повторите через {seconds} с."
DECISION_CHOOSE = "Выберите решение: Проверен, Возвращен на доработку или Отклонен."
DECISION_COMMENT_REQUIRED = "Для возврата или отклонения напишите комментарий: кооператив получит его в письме."
DECISION_NOT_REGISTERED = "Решение можно принять только по зарегистрированному пакету."
EXPORT_COLUMNS = (
    "Получен (МСК)",
    "Номер в реестре",
    "Кооператив",
    "Вид документа",
    "Статус",
    "Решение проверки",
    "Решение сотрудника",
    "Вх. номер",
    "Зарегистрирован (МСК)",
    "Внешний id",
    "Id пакета",
)
"""Header row of the staff list's CSV export, in the order of its columns."""

# staff workspace: the member list CSV upload
MEMBERS_CSV_CHOOSE_FILE = "Выберите файл CSV."
MEMBERS_CSV_REPLACED = "Список заменён: {count} кооперативов."
MEMBERS_CSV_TOO_LARGE = "Файл больше {limit}."
MEMBERS_CSV_NOT_UTF8 = "Файл должен быть в кодировке UTF-8."
MEMBERS_CSV_HEADER = "Первая строка должна быть заголовком {columns}."
MEMBERS_CSV_NUMBER_DIGITS = "Строка {line}: номер в реестре должен состоять из цифр («{number}»)."
MEMBERS_CSV_NUMBER_DUPLICATE = "Строка {line}: номер {number} уже есть в строке {first}."
MEMBERS_CSV_OGRN_INVALID = "Строка {line}: неверный ОГРН «{ogrn}» (длина или контрольная цифра)."
MEMBERS_CSV_OGRN_DUPLICATE = "Строка {line}: ОГРН {ogrn} уже есть в строке {first}."
MEMBERS_CSV_INN_INVALID = "Строка {line}: неверный ИНН «{inn}» (длина или контрольная цифра)."
MEMBERS_CSV_INN_DUPLICATE = "Строка {line}: ИНН {inn} уже есть в строке {first}."
MEMBERS_CSV_NAME_MISSING = "Строка {line}: не указано наименование."
MEMBERS_CSV_EMAIL_INVALID = "Строка {line}: неверный адрес электронной почты «{email}»."
MEMBERS_CSV_STATUS = "Строка {line}: статус должен быть active или excluded."
MEMBERS_CSV_BROKEN = "Файл повреждён: {error}."
MEMBERS_CSV_EMPTY = "В файле нет ни одного кооператива."


def size_ru(size: int) -> str:
    """A byte count as people write it: «100 МБ», «64 КБ», «1 ГБ», else «1500 байт»."""
    for unit, name in ((1 << 30, "ГБ"), (1 << 20, "МБ"), (1 << 10, "КБ")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} байт"
