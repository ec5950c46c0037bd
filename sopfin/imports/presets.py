"""Mappings for the exports analysts actually get, selected with ``--map preset:NAME``.

Each preset is a mapping in the same TOML a user writes (so it is read and checked by the same
code), with the column names of the real export. A column lists the spellings seen across
versions; the first one found in the file is used. Items map to families through the
workbook's ``Mapping`` sheet (Item | Family), which an analyst keeps in Excel.

Where each layout comes from:

* ``netsuite-sales``: a NetSuite transaction saved search exported as CSV. The CSV's headers
  are the search's result column labels (the export writes the labels as headers; see the
  saved-search-to-CSV scripts in github.com/gmihaylov/netsuite-saved-search-export-csv); the
  preset uses the standard field labels of a transaction search: Date, Type, Document Number,
  Name, Item, Quantity, Amount. Main-line rows (no Item) are left out. Dates as NetSuite's
  default US format, M/D/YYYY.
* ``quickbooks-sales-by-product``: QuickBooks Online, Reports > Sales by Product/Service Detail,
  exported to CSV or Excel. The export starts with the company name, the report title and the
  date range, then a header row whose first cell is blank; each product's lines follow a row
  holding just its name, and end with "Total for <product>"; a "TOTAL" row and a timestamp
  close the file. Newer exports head the columns "Transaction date, Transaction type, Num,
  Customer full name, Description, Quantity, Sales price, Amount, Balance"; older ones "Date,
  Transaction Type, Num, Customer, Memo/Description, Qty, Sales Price, Amount, Balance" (both
  as seen in public code that parses these exports, e.g. a general-ledger project's
  tests/test_qbo_history.py and xyugen/cosmetic-marketing-assistant's
  src/interface/SalesByProductData.ts).
* ``sap-billing-items``: SAP SD billing document items (tables VBRK/VBRP, exported from SE16N
  or a query with English column headings, or the S/4HANA OData service
  API_BILLING_DOCUMENT_SRV's A_BillingDocumentItem): Billing Date (FKDAT,
  BillingDocumentDate), Material (MATNR, Product), Billed Quantity (FKIMG, BillingQuantity),
  Net Value (NETWR, NetAmount). Field names as documented for the BW extractor
  2LIS_13_VDITM (billing document item data). Dates DD.MM.YYYY (SAP's default for a German
  or European user), or YYYYMMDD as the raw field.
* ``gl-trial-balance``: a trial balance by period from any GL (one row per account and
  period, with debit and credit, or a net balance): Account, Account Type, Period, Debit,
  Credit. Revenue and cost of sales accounts are recognised by their type; credit balances
  (revenue) come out positive. Accounts map to families on the Mapping sheet.
* ``gl-opex-by-department``: the same trial balance by period with the department (cost
  centre) each balance is booked to, for the opex lines of Actuals or Budget: Department
  (or Department Name, Cost Center, Cost Centre), Account, Account Type, Period, Debit,
  Credit. Expense accounts are recognised by their type and come out positive (an expense
  is a debit balance); other types are left out. Departments and accounts are the plan's
  Opex lines as they are named in the GL.
"""

from __future__ import annotations

# A trial balance's balance columns: its period, the account type naming the measure, and
# debit and credit (the balance is debit - credit).
_GL_BALANCE = '''period = ["Period", "Fiscal Period", "Posting Period"]
measure = ["Account Type", "Type"]
debit = ["Debit", "Debit Amount"]
credit = ["Credit", "Credit Amount"]
'''

PRESETS: dict[str, str] = {
    "netsuite-sales": '''
name = "NetSuite transaction saved search (CSV)"
[source]
date_format = ["%m/%d/%Y", "%m/%d/%y"]
[columns]
date = ["Date", "Transaction Date"]
item = ["Item", "Item: Name"]
[values]
units = ["Quantity", "Qty"]
revenue = ["Amount", "Amount (Net)", "Net Amount"]
[families]
from = "sheet"
[[filter]]
column = ["Item", "Item: Name"]
not_in = [""]
''',
    "quickbooks-sales-by-product": '''
name = "QuickBooks Online Sales by Product/Service Detail"
[source]
group_column = ["Product/Service", "Product/Service full name"]
skip_rows_starting = ["Total for ", "TOTAL"]
date_format = ["%m/%d/%Y", "%m/%d/%y"]
[columns]
date = ["Transaction date", "Date"]
[values]
units = ["Quantity", "Qty"]
revenue = ["Amount"]
[families]
from = "sheet"
''',
    "sap-billing-items": '''
name = "SAP billing document items (VBRK/VBRP)"
[source]
date_format = ["%d.%m.%Y", "%Y%m%d", "%m/%d/%Y"]
[columns]
date = ["Billing Date", "FKDAT", "BillingDocumentDate"]
item = ["Material", "MATNR", "Product"]
[values]
units = ["Billed Quantity", "FKIMG", "BillingQuantity"]
revenue = ["Net Value", "Net value", "NETWR", "NetAmount"]
[families]
from = "sheet"
''',
    "gl-trial-balance": '''
name = "GL trial balance by period"
[source]
[columns]
item = ["Account", "Account Number", "GL Account"]
''' + _GL_BALANCE + '''[measures]
"Revenue" = "revenue"
"Income" = "revenue"
"Sales" = "revenue"
"Cost of Goods Sold" = "cogs"
"Cost of Sales" = "cogs"
"COGS" = "cogs"
[signs]
revenue = -1
[families]
from = "sheet"
''',
    "gl-opex-by-department": '''
name = "GL trial balance by period and department: opex"
[source]
[columns]
department = ["Department", "Department Name", "Cost Center", "Cost Centre"]
account = ["Account", "Account Name", "GL Account"]
''' + _GL_BALANCE + '''[measures]
"Expense" = "opex"
"Expenses" = "opex"
"Operating Expense" = "opex"
"Operating Expenses" = "opex"
"Expenditures" = "opex"
''',
}


def preset_text(name: str) -> str | None:
    return PRESETS.get(name)
