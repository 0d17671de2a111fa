"""Plain text (.txt, .md): the encoding detected, the bytes decoded as they are."""

from __future__ import annotations

from .common import SkippedFile


def _share_in(text: str, encoding: str, lead_range: tuple[int, int]) -> float:
    """Share of CJK characters whose encoding in `encoding` has a lead byte in `lead_range`.

    GB2312 level 1 (lead bytes B0–D7) and Big5's common block (A4–C6) hold the everyday
    characters of each script; text decoded with the wrong codec scatters outside them.
    """
    hanzi = [c for c in text[:20000] if "\u4e00" <= c <= "\u9fff"]
    if not hanzi:
        return 0.0
    common = 0
    for char in hanzi:
        try:
            lead = char.encode(encoding)[0]
        except UnicodeEncodeError:
            continue
        common += lead_range[0] <= lead <= lead_range[1]
    return common / len(hanzi)


def decode(raw: bytes, name: str) -> tuple[str, str]:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, GB18030/GBK or Big5."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise SkippedFile(name, "UTF-16 文件已损坏，无法解码") from error
    if b"\x00" in raw[:8192]:
        raise SkippedFile(name, "不是文本文件（含二进制内容）")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    for encoding, lead_range in (("gb18030", (0xB0, 0xD7)), ("big5", (0xA4, 0xC6))):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        check = "gb2312" if encoding == "gb18030" else "big5"
        candidates.append((_share_in(text, check, lead_range), encoding, text))
    if not candidates:
        raise SkippedFile(name, "无法识别文件编码（不是 UTF-8、GB18030 或 Big5 文本）")
    _, encoding, text = max(candidates)
    return text, encoding
