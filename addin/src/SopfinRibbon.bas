Attribute VB_Name = "SopfinRibbon"
' Callbacks of the "S&OP Finance" ribbon tab (customUI/customUI14.xml).
' Each button runs one step of the monthly close in Python, on the active workbook,
' through the xlwings add-in: sopfin.excel.ribbon has one function per button.
Option Explicit

Public Sub SopfinNewPlan(control As IRibbonControl)
    RunSopfin "import sopfin.excel.ribbon as r; r.new_plan()"
End Sub

Public Sub SopfinCheck(control As IRibbonControl)
    RunSopfin "import sopfin.excel.ribbon as r; r.check()"
End Sub

Public Sub SopfinDollarize(control As IRibbonControl)
    RunSopfin "import sopfin.excel.ribbon as r; r.dollarize()"
End Sub

Public Sub SopfinReconcile(control As IRibbonControl)
    RunSopfin "import sopfin.excel.ribbon as r; r.reconcile()"
End Sub

Public Sub SopfinPublish(control As IRibbonControl)
    RunSopfin "import sopfin.excel.ribbon as r; r.publish()"
End Sub

Public Sub SopfinApprove(control As IRibbonControl)
    RunSopfin "import sopfin.excel.ribbon as r; r.approve()"
End Sub

Public Sub SopfinVerify(control As IRibbonControl)
    RunSopfin "import sopfin.excel.ribbon as r; r.verify()"
End Sub

Public Sub SopfinCompare(control As IRibbonControl)
    RunSopfin "import sopfin.excel.ribbon as r; r.compare()"
End Sub

Public Sub SopfinHelp(control As IRibbonControl)
    RunSopfin "import sopfin.excel.ribbon as r; r.help()"
End Sub

Private Sub RunSopfin(ByVal statement As String)
    ' Runs one Python statement through the xlwings add-in. xlwings shows Python's own
    ' errors; this only explains the case where the xlwings add-in is not installed.
    On Error GoTo Failed
    Application.Run "xlwings.xlam!RunPython", statement
    Exit Sub
Failed:
    If Err.Number = 1004 Then
        MsgBox "S&OP Finance runs Python through the xlwings add-in, which Excel cannot " & _
               "find." & vbNewLine & vbNewLine & "In a terminal: pip install sopfin xlwings" & _
               vbNewLine & "then: xlwings addin install" & vbNewLine & _
               "and restart Excel.", vbExclamation, "S&OP Finance"
    Else
        MsgBox "Could not run " & statement & vbNewLine & "Error " & Err.Number & ": " & _
               Err.Description, vbExclamation, "S&OP Finance"
    End If
End Sub
