"""Valid CSV import files (`creditlink import`, docs/csv-import.md) for the unit and the
integration tests of the import: one of each kind, referring to each other."""

from __future__ import annotations

from pathlib import Path

from graph_model.csv_import import ImportFiles

ENTERPRISE = "91330302MA2B3C4D61"
BUSINESS = "92330302MA2B3C4E72"
PERSON = "330302198005060128"
PERSON2 = "330302199001020131"
CHILD = "330302201203040149"

SUBJECTS = f"""id,kind,name,district,industry,registeredCapital,establishedOn,status,birthDate
{ENTERPRISE},ENTERPRISE,温州鹿城制鞋有限公司,330302,footwear,100.5,2010-04-01,ACTIVE,
{BUSINESS},INDIVIDUAL_BUSINESS,鹿城小吃店,鹿城区,catering,5,2015-01-01,,
{PERSON},PERSON,张三,330302,,,,,1980-05-06
{PERSON2},PERSON,李四,,,,,,
{CHILD},person,张小三,330302,,,,,
"""
HOUSEHOLDS = """id,district,address
H330302000001,330302,鹿城区某街1号
"""
LINKS = f"""id,from,to,relation,validFrom,validTo,ratio,role,source
,{PERSON},{ENTERPRISE},LEGAL_REPRESENTATIVE_OF,2010-04-01,,,,amr-registry
,{PERSON2},{ENTERPRISE},SHAREHOLDER_OF,2010-04-01,,0.4,,
,{PERSON},{ENTERPRISE},EXECUTIVE_OF,2010-04-01,2020-01-01,,CHAIR,
,{PERSON},{BUSINESS},OPERATOR_OF,2015-01-01,,,,
,{PERSON},H330302000001,MEMBER_OF,2005-01-01,,,HEAD,
,{CHILD},H330302000001,MEMBER_OF,2012-03-04,,,CHILD,
"""
SANCTIONS = f"""id,listType,subjectId,issuerId,decidedOn,validFrom,validTo,status,jurisdiction,documentNo,reason,responsiblePersonIds
S-1,DISHONEST_JUDGMENT_DEBTOR,{ENTERPRISE},wz-intermediate-court,2025-06-01,,,,,(2025)浙03执1号,拒不履行,{PERSON}
,MAJOR_TAX_VIOLATION,{BUSINESS},wz-tax,2025-07-01,2025-07-02,2028-07-01,UNDER_OBJECTION,wenzhou,税罚2025-1,偷税,
"""


def write(tmp_path: Path, **texts: str) -> ImportFiles:
    paths = {}
    for name, text in texts.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    return ImportFiles(**paths)
