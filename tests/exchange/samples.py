"""Sample workbooks for the Excel tests: clean ledgers, messy real-world ones and defective files.

Everything is generated on the fly with openpyxl (or by hand for the broken formats) into the test's
tmp folder. The identifiers are valid (check digits computed with domain.checkdigits) unless a test
breaks them on purpose.
"""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from jzair_desktop.domain import checkdigits
from jzair_desktop.domain.ledgers import ledger

TOWNSHIPS = ("东阳镇", "长凝镇", "北田镇", "修文镇", "郭家堡乡", "张庆乡", "庄子乡", "乌金山镇")
VILLAGES = ("车辋村", "南庄村", "西河堡村", "后沟村", "王杜村", "东长寿村", "使赵村", "小赵村")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "建国志强秀英桂兰红梅海燕春生玉珍国庆丽娟文华小平永福金花立新春花"
COMPANIES = ("晋中市宏达焦化有限公司", "榆次区新兴铸造厂", "山西晋华建材有限公司", "太谷县鑫源化工有限公司",
             "晋中开发区华鑫包装印刷厂", "平遥县恒通钢铁有限公司", "介休市三佳煤化有限公司", "祁县东方涂装有限公司")

UNIT_PREFIX = {"榆次区": "140702", "太谷区": "140703", "祁县": "140727", "平遥县": "140728", "介休市": "140781"}


# --- identifiers --------------------------------------------------------------------------------


def make_id(i: int, unit: str = "榆次区", year: int = 1960) -> str:
    """A valid 身份证号 (18 characters, GB 11643 check digit)."""
    birth = dt.date(year, 1, 1) + dt.timedelta(days=(i * 37) % 12000)
    first17 = f"{UNIT_PREFIX.get(unit, '140702')}{birth:%Y%m%d}{i % 1000:03d}"
    return first17 + checkdigits.id_check_char(first17)


_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def make_vin(i: int) -> str:
    """A valid VIN (17 characters, check digit in position 9)."""
    body = ""
    n = i * 7919 + 12345
    for _ in range(8):
        n, r = divmod(n, len(_VIN_CHARS))
        body += _VIN_CHARS[r]
    vin = "LZZ" + body[:5] + "0" + "A" + f"{i % 10_000_000:07d}"[-7:]
    vin = vin[:17]
    return vin[:8] + checkdigits.vin_check_char(vin) + vin[9:]


def make_uscc(i: int) -> str:
    """A valid 统一社会信用代码 (GB 32100 check character)."""
    alphabet = checkdigits.USCC_ALPHABET
    body = "91140700"
    n = i * 104729 + 7
    for _ in range(9):
        n, r = divmod(n, 31)
        body += alphabet[r]
    return body + checkdigits.uscc_check_char(body)


def make_plate(i: int, dotted: bool = False) -> str:
    letters = "ABCDEFGHJK"
    tail = f"{letters[i % 10]}{i % 10000:04d}"
    return f"晋K·{tail}" if dotted else f"晋K{tail}"


def name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 3) % (len(GIVEN) - 1): (i * 3) % (len(GIVEN) - 1) + 2]


# --- clean rows per ledger (header -> value) --------------------------------------------------------


def heating_row(i: int, unit: str = "榆次区") -> dict[str, Any]:
    done = i % 3 != 0
    return {
        "县（区、市）": unit,
        "乡（镇）": TOWNSHIPS[i % len(TOWNSHIPS)],
        "村（社区）": VILLAGES[(i // 8) % len(VILLAGES)],
        "户主姓名": name(i),
        "身份证号": make_id(i, unit),
        "联系电话": f"139{i:08d}",
        "采暖面积（平方米）": 60 + (i % 90) + 0.5 * (i % 2),
        "改造方式": ("气代煤", "电代煤", "集中供热", "其他清洁能源")[i % 4],
        "状态": "已完工" if done else "施工中",
        "完成日期": dt.date(2020, 10, 1) + dt.timedelta(days=i % 60) if done else None,
        "补贴金额（元）": 2000 + 100 * (i % 20),
        "保留原燃煤设施": "是",
        "备注": None,
    }


def truck_row(i: int, unit: str = "榆次区") -> dict[str, Any]:
    return {
        "县（区、市）": unit,
        "号牌号码": make_plate(i),
        "车辆识别代号": make_vin(i),
        "排放标准": ("国零", "国一", "国二", "国三")[i % 4],
        "车辆类型": ("重型货车", "中型货车", "轻型货车")[i % 3],
        "车辆所有人": name(i) if i % 2 else COMPANIES[i % len(COMPANIES)],
        "使用性质": "营运",
        "淘汰方式": ("报废拆解", "注销", "转出")[i % 3],
        "淘汰日期": dt.date(2020, 3, 1) + dt.timedelta(days=i % 200),
        "补贴金额（元）": 10000 + 500 * (i % 10),
        "备注": None,
    }


def boiler_row(i: int, unit: str = "榆次区") -> dict[str, Any]:
    done = i % 2 == 0
    return {
        "县（区、市）": unit,
        "单位名称": COMPANIES[i % len(COMPANIES)],
        "统一社会信用代码": make_uscc(i),
        "锅炉编号": f"GL-{i:03d}",
        "额定蒸发量（蒸吨/小时）": (1, 2, 4, 6, 10, 20)[i % 6],
        "燃料类型": "燃煤" if i % 3 else "燃气",
        "整治方式": "淘汰拆除" if i % 3 else "低氮改造",
        "计划完成日期": dt.date(2020, 10, 31),
        "实际完成日期": dt.date(2020, 10, 15) if done else None,
        "状态": "已完成" if done else "施工中",
        "备注": None,
    }


def kiln_row(i: int, unit: str = "榆次区") -> dict[str, Any]:
    done = i % 2 == 0
    return {
        "县（区、市）": unit,
        "企业名称": COMPANIES[i % len(COMPANIES)],
        "统一社会信用代码": make_uscc(i),
        "行业": ("钢铁", "建材", "有色", "焦化", "铸造", "其他")[i % 6],
        "治理类别": ("工业炉窑治理", "无组织排放治理")[i % 2],
        "治理内容": f"{i}号窑炉烟气脱硫脱硝改造",
        "计划完成日期": dt.date(2020, 12, 31),
        "实际完成日期": dt.date(2020, 11, 20) if done else None,
        "状态": "已完成" if done else "施工中",
        "备注": None,
    }


def vocs_row(i: int, unit: str = "榆次区") -> dict[str, Any]:
    done = i % 2 == 0
    category = ("VOCs综合治理", "低VOCs原辅材料替代", "旁路排查整治", "储罐排查", "油气回收在线监控")[i % 5]
    bypass = 2 if category == "旁路排查整治" else 0
    return {
        "县（区、市）": unit,
        "企业名称": COMPANIES[i % len(COMPANIES)],
        "统一社会信用代码": make_uscc(i),
        "行业": ("石化", "化工", "工业涂装", "包装印刷", "加油站", "其他")[i % 6],
        "治理类别": category,
        "旁路数量": bypass,
        "旁路处置": "铅封" if bypass else "无",
        "计划完成日期": dt.date(2021, 3, 31),
        "实际完成日期": dt.date(2020, 12, 1) if done else None,
        "状态": "已完成" if done else "施工中",
        "备注": None,
    }


def site_row(i: int, unit: str = "榆次区") -> dict[str, Any]:
    status = ("在建", "在建", "在建", "停工", "完工")[i % 5]
    return {
        "县（区、市）": unit,
        "项目名称": f"{unit}第{i}号地块住宅项目",
        "地址": f"迎宾街{i}号",
        "建设单位": COMPANIES[i % len(COMPANIES)],
        "施工单位": "山西建工集团有限公司",
        "开工日期": dt.date(2020, 4, 1) + dt.timedelta(days=i % 200),
        "状态": status,
        "建筑面积（平方米）": 10_000 + i,
        **{h: ("否" if i % 7 == 3 and h == "物料堆放覆盖" else "是") for h in (
            "工地周边围挡", "物料堆放覆盖", "土方开挖湿法作业", "路面硬化", "出入车辆清洗", "渣土车辆密闭运输")},
        "在线监测": "是",
        "视频监控": "否" if i % 2 else "是",
        "备注": None,
    }


def problem_row(i: int, unit: str = "榆次区") -> dict[str, Any]:
    done = i % 3 == 0
    return {
        "县（区、市）": unit,
        "乡（镇）": "东阳镇",
        "来源": ("三年行动计划", "柴油货车攻坚", "监督帮扶", "督察")[i % 4],
        "文号": f"晋环督〔2020〕{i}号",
        "问题（任务）描述": f"{unit}第{i}项问题：原料堆场未封闭",
        "责任部门": "县生态环境局",
        "发现（交办）日期": dt.date(2020, 10, 1),
        "整改时限": dt.date(2020, 11, 30),
        "整改状态": "已整改" if done else "整改中",
        "整改完成日期": dt.date(2020, 11, 20) if done else None,
        "整改措施": "已封闭" if done else None,
        "备注": None,
    }


ROW_MAKERS = {"heating": heating_row, "trucks": truck_row, "boilers": boiler_row, "kilns": kiln_row, "vocs": vocs_row,
              "sites": site_row, "problems": problem_row}


def clean_rows(ledger_key: str, n: int, unit: str = "榆次区", start: int = 0) -> list[dict[str, Any]]:
    return [ROW_MAKERS[ledger_key](i, unit) for i in range(start, start + n)]


# --- writing workbooks ----------------------------------------------------------------------------


def write_table(
    path: Path,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title_rows: Sequence[Sequence[Any]] = (),
    sheet_title: str = "Sheet1",
    before_sheets: Sequence[str] = (),
    merges: Sequence[str] = (),
    text_columns: Sequence[int] = (),
) -> Path:
    """A workbook with optional sheets before the table, title rows above the header, merged cells."""
    wb = Workbook()
    first = wb.active
    for i, title in enumerate(before_sheets):
        ws = first if i == 0 else wb.create_sheet(title)
        ws.title = title
        ws["A1"] = "说明：本工作簿为台账，数据见后面的工作表。"
    ws = wb.create_sheet(sheet_title) if before_sheets else first
    ws.title = sheet_title
    for r in title_rows:
        ws.append(list(r))
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r))
    for rng in merges:
        ws.merge_cells(rng)
    for c in text_columns:
        for row in ws.iter_rows(min_col=c + 1, max_col=c + 1):
            for cell in row:
                cell.number_format = "@"
    wb.save(path)
    return path


def write_dict_rows(path: Path, rows: Sequence[dict[str, Any]], **kwargs: Any) -> Path:
    headers = list(rows[0]) if rows else []
    return write_table(path, headers, [[r.get(h) for h in headers] for r in rows], **kwargs)


def write_clean(path: Path, ledger_key: str, n: int, unit: str = "榆次区", start: int = 0) -> Path:
    return write_dict_rows(path, clean_rows(ledger_key, n, unit, start))


# --- messy real-world ledgers ---------------------------------------------------------------------


def messy_heating(path: Path, unit: str = "榆次区", start: int = 0) -> Path:
    """Title rows, merged cells, 序号 and other extra columns, aliases, half/full-width brackets,
    text dates in every accepted format, a code prefix on a choice, numbers as text, an empty row in
    the middle, 合计 / 合 计 rows and a signature line below the table."""
    headers = ["序号", " 县（市、区） ", "乡镇", "村", "户 主", "身份证号码", "联系方式",
               "采暖面积\n(平方米)", "改造方式", "状态", "完成日期", "补贴金额(元)", "保留原燃煤设施", "备注", "入户核查人"]
    dates = [
        dt.date(2020, 10, 3), dt.datetime(2020, 10, 4, 9, 30), "2020-10-05", "2020/10/6", "2020.10.07",
        "2020年10月8日", 44113, "20201010", " 2020-10-11 ", "2020年10月12日",
    ]
    rows = []
    for i in range(12):
        base = heating_row(i + start, unit)
        rows.append([
            i + 1,
            unit if i % 4 else " ".join(unit),  # 榆 次 区
            base["乡（镇）"], base["村（社区）"], base["户主姓名"], base["身份证号"],
            base["联系电话"],
            "1,234.5" if i == 2 else base["采暖面积（平方米）"],
            "2-电代煤" if i == 1 else base["改造方式"],
            "已完工",
            dates[i % len(dates)],
            f"{base['补贴金额（元）']:,}" if i == 3 else base["补贴金额（元）"],
            "是",
            "困难户" if i == 5 else None,
            "李四",
        ])
        if i == 6:
            rows.append([None] * len(headers))  # an empty row in the middle
    rows.append(["合计", None, None, None, None, None, None, 9999, None, None, None, 30000, None, None, None])
    rows.append([None, "合 计", None, None, None, None, None, 9999, None, None, None, 30000, None, None, None])
    rows.append(["填表人：王五", None, None, None, None, None, None, None, None, None, "审核人：赵六"])
    title = [[f"{unit}2020年清洁取暖散煤替代台账"], ["填报单位：区能源局", None, None, None, None, None, None, None,
                                                 None, None, "填报日期：2020年12月5日"]]
    return write_table(
        path, headers, rows, title_rows=title, sheet_title="清洁取暖", before_sheets=("封面",),
        merges=("A1:O1", "A2:J2"), text_columns=(5,),
    )


def messy_trucks(path: Path, unit: str = "榆次区", start: int = 0) -> Path:
    """Aliases (车牌号/车架号/车主/排放阶段), plates 晋K·12345 and 晋k 12345, emission spellings, a column
    number row under the header, dates as serial numbers and as text."""
    headers = ["序号", "所属区县", "车牌号", "车架号", "排放阶段", "车辆类型", "车主", "使用性质", "淘汰方式",
               "淘汰日期", "补贴金额（元）", "备注", "联系电话"]
    emissions = ["国Ⅲ", "国III", "国3", "国 2", "国〇", "国一"]
    rows = [list(range(1, len(headers) + 1))]
    for i in range(8):
        base = truck_row(i + start, unit)
        plate = base["号牌号码"]
        if i % 3 == 1:
            plate = plate[:2] + "·" + plate[2:]
        elif i % 3 == 2:
            plate = plate[0] + plate[1].lower() + " " + plate[2:]
        rows.append([
            i + 1, unit, plate, base["车辆识别代号"].lower() if i == 4 else base["车辆识别代号"],
            emissions[i % len(emissions)], base["车辆类型"], base["车辆所有人"], "" if i == 3 else "营运",
            base["淘汰方式"], 43900 + i if i % 2 else base["淘汰日期"].strftime("%Y/%m/%d"),
            base["补贴金额（元）"], None, "13800000000",
        ])
    rows.append(["小计", None, None, None, None, None, None, None, None, None, 80000])
    title = [[f"{unit}国三及以下营运柴油货车淘汰台账"], []]
    return write_table(path, headers, rows, title_rows=title, merges=("A1:M1",))


def messy_boilers(path: Path, unit: str = "榆次区", start: int = 0) -> Path:
    """额定蒸发量 in MW by the header, 企业名称 for 单位名称, a capacity with its own unit."""
    headers = ["序号", "县（区、市）", "企业名称", "统一社会信用代码", "锅炉编号", "额定蒸发量（MW）", "燃料类型",
               "整治方式", "计划完成日期", "实际完成日期", "状态", "备注"]
    rows = []
    for i in range(6):
        base = boiler_row(i + start, unit)
        rows.append([
            i + 1, unit, base["单位名称"], base["统一社会信用代码"], base["锅炉编号"],
            "2.8MW" if i == 5 else 1.4, base["燃料类型"], base["整治方式"], "2020年10月31日",
            base["实际完成日期"], base["状态"], None,
        ])
    return write_table(path, headers, rows, title_rows=[["锅炉综合整治台账"]])


def messy_kilns(path: Path, unit: str = "榆次区", start: int = 0) -> Path:
    headers = ["县区", "企业名称", "信用代码", "行业", "治理类别", "治理内容", "计划完成日期", "实际完成日期", "状态"]
    rows = []
    for i in range(5):
        b = kiln_row(i + start, unit)
        rows.append([unit, b["企业名称"], b["统一社会信用代码"].lower(), b["行业"], b["治理类别"], b["治理内容"],
                     "2020.12.31", b["实际完成日期"], b["状态"]])
    return write_table(path, headers, rows, title_rows=[["工业炉窑台账"], ["单位：家"]])


def messy_vocs(path: Path, unit: str = "榆次区", start: int = 0) -> Path:
    headers = ["县(区、市)", "企业名称", "社会信用代码", "行业", "治理类别", "旁路数量", "旁路处置",
               "计划完成日期", "实际完成日期", "状态", "备注"]
    rows = []
    for i in range(5):
        b = vocs_row(i + start, unit)
        rows.append([unit, b["企业名称"], b["统一社会信用代码"], b["行业"], b["治理类别"], str(b["旁路数量"]),
                     b["旁路处置"], "2021/3/31", b["实际完成日期"], b["状态"], None])
    return write_table(path, headers, rows)


def messy_sites(path: Path, unit: str = "榆次区", start: int = 0) -> Path:
    """A 住建局 sheet: its own words for the headers (工程名称, 施工企业, 围挡 …), √ for 是, numbers with
    thousands separators, Chinese dates, a merged title and a 合计 row."""
    headers = ["序号", "县(市、区)", "工程名称", "项目地址", "建设单位", "施工企业", "开工时间", "施工状态",
               "建筑面积", "围挡", "物料覆盖", "湿法作业", "道路硬化", "车辆冲洗", "密闭运输", "扬尘在线监测", "视频监控"]
    rows = []
    for i in range(6):
        b = site_row(i + start, unit)
        day = b["开工日期"]
        rows.append([i + 1, unit, b["项目名称"], b["地址"], b["建设单位"], b["施工单位"],
                     f"{day.year}年{day.month}月{day.day}日" if i % 2 else day, b["状态"],
                     f"{b['建筑面积（平方米）']:,}", "√" if i == 2 else b["工地周边围挡"], b["物料堆放覆盖"],
                     b["土方开挖湿法作业"], b["路面硬化"], b["出入车辆清洗"], b["渣土车辆密闭运输"], b["在线监测"],
                     b["视频监控"]])
    rows.append(["合 计", None, "6个", None, None, None, None, None, "60,015"])
    return write_table(path, headers, rows, title_rows=[[f"{unit}建筑工地扬尘治理动态管理台账"]],
                       merges=("A1:Q1",))


def messy_problems(path: Path, unit: str = "榆次区", start: int = 0) -> Path:
    """Aliases (问题来源, 交办文号, 问题描述, 责任单位, 整改期限, 完成情况), dotted dates, a blank 整改时限."""
    headers = ["序号", "区县", "问题来源", "交办文号", "问题描述", "责任单位", "交办日期", "整改期限", "完成情况",
               "完成日期"]
    rows = []
    for i in range(5):
        b = problem_row(i + start, unit)
        blank_due = b["来源"] in ("三年行动计划", "柴油货车攻坚")
        rows.append([i + 1, unit, b["来源"], b["文号"], b["问题（任务）描述"], b["责任部门"], "2020.10.01",
                     None if blank_due else "2020/11/30", b["整改状态"], b["整改完成日期"]])
    rows.append(["合计", None, None, None, "5项"])
    return write_table(path, headers, rows, title_rows=[["问题清单（销号台账）"], ["单位：项"]])


MESSY = {"heating": messy_heating, "trucks": messy_trucks, "boilers": messy_boilers, "kilns": messy_kilns,
         "vocs": messy_vocs, "sites": messy_sites, "problems": messy_problems}


# --- defective files --------------------------------------------------------------------------------


def corrupt_zip(path: Path, source: Path) -> Path:
    """A real workbook cut in half (as by an interrupted download)."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def csv_as_xlsx(path: Path) -> Path:
    path.write_bytes("县（区、市）,乡（镇）,村（社区）,户主姓名\n榆次区,东阳镇,车辋村,张三\n".encode("gbk"))
    return path


def html_as_xlsx(path: Path) -> Path:
    path.write_text("<html><body><table><tr><td>县（区、市）</td></tr></table></body></html>", encoding="utf-8")
    return path


def _cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (CFB v3, 512-byte sectors) holding `streams` (each >= 4096 bytes)."""
    sector = 512
    free, end, fatsect = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    data_sectors: list[bytes] = []
    starts = []
    fat = [fatsect, end]  # sector 0: the FAT, sector 1: the directory
    next_sector = 2
    for payload in streams.values():
        payload = payload + b"\0" * (-len(payload) % sector)
        count = len(payload) // sector
        starts.append(next_sector)
        for k in range(count):
            fat.append(next_sector + k + 1 if k < count - 1 else end)
            data_sectors.append(payload[k * sector:(k + 1) * sector])
        next_sector += count
    assert len(fat) <= sector // 4, "too many sectors for one FAT sector"
    fat += [free] * (sector // 4 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        e = raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
        e += struct.pack("<III", free, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
        e += struct.pack("<IQ", start, size)
        return e.ljust(128, b"\0")

    names = list(streams)
    entries = [entry("Root Entry", 5, 1 if names else free, free, end, 0)]
    for i, n in enumerate(names):
        right = i + 2 if i + 1 < len(names) else free
        entries.append(entry(n, 2, free, right, starts[i], len(streams[n])))
    directory = b"".join(entries)
    directory = directory.ljust(sector * ((len(directory) + sector - 1) // sector), b"\0")
    assert len(directory) == sector, "one directory sector only"
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<I", header, 76, 0)
    for k in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * k, free)
    return bytes(header) + b"".join(struct.pack("<I", f) for f in fat) + directory + b"".join(data_sectors)


def encrypted_xlsx(path: Path) -> Path:
    """What Excel writes for a workbook with an open password: an OLE container with EncryptionInfo
    and EncryptedPackage streams (the payload here is random-looking filler, not real AES data)."""
    filler = bytes((i * 131 + 7) % 256 for i in range(4096))
    path.write_bytes(_cfb({"EncryptionInfo": filler, "EncryptedPackage": filler * 2}))
    return path


def xls_as_xlsx(path: Path) -> Path:
    """An old-format (BIFF8, OLE 'Workbook' stream) container saved with an .xlsx name."""
    filler = bytes(4096)
    path.write_bytes(_cfb({"Workbook": filler}))
    return path


def empty_workbook(path: Path) -> Path:
    wb = Workbook()
    wb.create_sheet("Sheet2")
    wb.save(path)
    return path


def without_header(path: Path) -> Path:
    return write_table(path, ["姓名", "地址", "金额"], [["张三", "东阳镇", 100], ["李四", "长凝镇", 200]])


MAIN_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def write_raw_xlsx(path: Path, sheet_name: str, rows_xml: Iterable[str], *, chunk: int = 5000) -> Path:
    """A minimal one-sheet .xlsx written as raw XML, streaming the given <row> elements (fast for big files)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"))
        zf.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        zf.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {MAIN_NS} {REL_NS}><sheets>'
            f'<sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        zf.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'))
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {MAIN_NS}><sheetData>'.encode())
            buf: list[str] = []
            for row in rows_xml:
                buf.append(row)
                if len(buf) >= chunk:
                    fh.write("".join(buf).encode())
                    buf.clear()
            fh.write("".join(buf).encode())
            fh.write(b"</sheetData></worksheet>")
    return path


def huge_xlsx(path: Path, rows: int = 1_000_000) -> Path:
    """A valid .xlsx with a heating header and `rows` data rows, written as raw XML (fast, streamed)."""

    def inline(ref: str, text: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'

    def xml_rows() -> Iterable[str]:
        headers = list(heating_row(0))
        yield '<row r="1">' + "".join(inline(f"{chr(65 + i)}1", h) for i, h in enumerate(headers)) + "</row>"
        for r in range(2, rows + 2):
            yield (
                f'<row r="{r}">{inline(f"A{r}", "榆次区")}{inline(f"B{r}", "东阳镇")}{inline(f"C{r}", "车辋村")}'
                f'{inline(f"D{r}", "张三")}<c r="G{r}"><v>{r % 100 + 50}</v></c>'
                f'{inline(f"H{r}", "电代煤")}{inline(f"I{r}", "施工中")}</row>'
            )

    return write_raw_xlsx(path, "台账", xml_rows(), chunk=10000)


def headers_of(ledger_key: str) -> list[str]:
    return [c.header for c in ledger(ledger_key).columns]


def _deflated(parts: Iterable[tuple[bytes, int]]) -> tuple[list[bytes], int, int]:
    """Raw deflate of `parts` ((block, repeats) each): each block is compressed once with a full flush,
    which makes its compressed form the same every time, so a gigabyte costs one block's work."""
    out: list[bytes] = []
    crc = size = 0
    for block, repeats in parts:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
        out.extend([packed] * repeats)
        for _ in range(repeats):
            crc = zlib.crc32(block, crc)
        size += len(block) * repeats
    out.append(zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH))
    return out, crc, size


def write_zip_raw(path: Path, members: dict[str, list[tuple[bytes, int]]]) -> Path:
    """A zip (deflate) whose members are given as (block, repeats) lists: a zip bomb in a second."""
    central = []
    with path.open("wb") as fh:
        for name, parts in members.items():
            chunks, crc, size = _deflated(parts)
            csize = sum(len(c) for c in chunks)
            raw = name.encode()
            offset = fh.tell()
            fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, csize, size, len(raw), 0) + raw)
            for c in chunks:
                fh.write(c)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, csize, size,
                                       len(raw), 0, 0, 0, 0, 0, offset) + raw)
        start = fh.tell()
        directory = b"".join(central)
        fh.write(directory)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), start, 0))
    return path


def _bomb_xlsx(path: Path, sheet_xml: list[tuple[bytes, int]], shared_strings: list[tuple[bytes, int]] | None = None
               ) -> Path:
    """A one-sheet .xlsx whose sheet (and shared strings) are small on disk and huge when unpacked."""
    members = {
        "[Content_Types].xml": [((
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/xl/workbook.xml" '
            b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            b"</Types>"), 1)],
        "_rels/.rels": [((
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'), 1)],
        "xl/workbook.xml": [((
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {MAIN_NS} {REL_NS}><sheets>'
            '<sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>').encode(), 1)],
        "xl/_rels/workbook.xml.rels": [((
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'), 1)],
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if shared_strings is not None:
        members["xl/sharedStrings.xml"] = shared_strings
    return write_zip_raw(path, members)


def _header_row_xml() -> str:
    headers = headers_of("heating")
    return '<row r="1">' + "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(headers)) + "</row>"


def huge_cell_xlsx(path: Path, cell_bytes: int = 1 << 30) -> Path:
    """About 1 MB on disk: a heating header and one record whose 户主姓名 holds `cell_bytes` of text."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {MAIN_NS}><sheetData>{_header_row_xml()}'
    return _bomb_xlsx(path, [
        (head.encode() + b'<row r="2"><c r="D2" t="inlineStr"><is><t>', 1),
        (b"a" * (1 << 20), cell_bytes >> 20),
        (b"</t></is></c></row></sheetData></worksheet>", 1),
    ])


def huge_shared_strings_xlsx(path: Path, count: int = 60_000_000) -> Path:
    """About 2 MB on disk: a shared-string table of `count` one-letter texts (1 GB unpacked)."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {MAIN_NS}><sheetData>{_header_row_xml()}'
    return _bomb_xlsx(
        path,
        [(head.encode() + b'<row r="2"><c r="D2" t="s"><v>0</v></c></row></sheetData></worksheet>', 1)],
        [(f'<?xml version="1.0" encoding="UTF-8"?><sst {MAIN_NS} count="{count}" uniqueCount="{count}">'.encode(), 1),
         (b"<si><t>a</t></si>" * 65536, count // 65536),
         (b"</sst>", 1)],
    )
