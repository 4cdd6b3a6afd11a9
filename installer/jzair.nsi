; The Windows installer of jzair_desktop (NSIS 3, 64-bit Unicode), made from the Windows one-folder build:
;   makensis -DVERSION=0.1.0 -DSRCDIR=dist/windows/jzair -DOUTFILE=dist/windows/jzair-setup-0.1.0.exe installer/jzair.nsi
;
; - Per user without administrator rights: %LOCALAPPDATA%\Programs\jzair_desktop (HKCU entries);
;   for all users with /ALLUSERS, run as administrator: %ProgramFiles%\jzair_desktop (HKLM entries).
; - Start-menu and desktop shortcuts 晋中大气攻坚台账, an entry in 应用和功能 / Programs and Features.
; - Upgrade in place: the new files are unpacked beside the old folder and swapped in only when complete,
;   so an interrupted upgrade leaves the old version working. The user's data folder
;   (%LOCALAPPDATA%\jzair_desktop: database, backups, keys, settings) is never touched, by install,
;   upgrade or uninstall; the program's first start migrates the database (keeping a pre-upgrade copy).
; - Refuses to run while jzair_desktop.exe or jzair.exe runs (they hold the mutex jzair_desktop.running).
; - /S installs silently (exit code 0 on success, 2 when refused or failed); /D=folder chooses the folder
;   (last on the command line, no quotes); /ALLUSERS installs for every user of the PC.
; - CRC check forced: a damaged or partial download refuses to run.

!ifndef VERSION
  !error "VERSION is required: makensis -DVERSION=x.y.z ..."
!endif
!ifndef SRCDIR
  !define SRCDIR "..\dist\windows\jzair"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\dist\windows\jzair-setup-${VERSION}.exe"
!endif
; VIProductVersion needs four numbers: 0.1.0 -> 0.1.0.0
!ifndef VERSION4
  !define VERSION4 "${VERSION}.0"
!endif

!define APPKEY "jzair_desktop"
!define APPNAME "晋中大气攻坚台账"
!define APPNAME_LONG "晋中市秋冬季大气污染综合治理攻坚台账"
!define PUBLISHER "晋中市大气污染防治工作领导组办公室"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APPKEY}"
!define MUTEX "jzair_desktop.running"

Unicode true
Target amd64-unicode
ManifestDPIAware true
!ifndef COMPRESSOR
  !define COMPRESSOR "/SOLID lzma"  ; the smallest download; -DCOMPRESSOR=zlib builds several times faster
!endif
SetCompressor ${COMPRESSOR}
CRCCheck force
RequestExecutionLevel user
Name "${APPNAME}"
Caption "${APPNAME} ${VERSION} 安装"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APPKEY}"
ShowInstDetails show
ShowUninstDetails show
BrandingText "${APPNAME_LONG} ${VERSION}"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey /LANG=2052 "ProductName" "${APPNAME_LONG}"
VIAddVersionKey /LANG=2052 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=2052 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=2052 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=2052 "FileDescription" "${APPNAME} ${VERSION} 安装程序"
VIAddVersionKey /LANG=2052 "LegalCopyright" "${PUBLISHER}"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "x64.nsh"

Var AllUsers
Var UserData  ; the user's data folder, taken before an all-users installation switches the shell folders

!define MUI_ICON "..\resources\icons\jzair.ico"
!define MUI_UNICON "..\resources\icons\jzair.ico"
!define MUI_ABORTWARNING
!define MUI_ABORTWARNING_TEXT "确定要退出安装吗？"
!define MUI_WELCOMEPAGE_TITLE "欢迎安装${APPNAME}"
!define MUI_WELCOMEPAGE_TEXT "本程序将在这台电脑上安装 ${APPNAME_LONG} ${VERSION}。$\r$\n$\r$\n不需要管理员权限；已安装旧版本时会就地升级，您的数据（数据库、备份、密钥、设置）保留在 %LOCALAPPDATA%\jzair_desktop，不受影响。$\r$\n$\r$\n安装前请关闭正在运行的${APPNAME}。"
!define MUI_FINISHPAGE_RUN "$INSTDIR\jzair_desktop.exe"
!define MUI_FINISHPAGE_RUN_TEXT "立即启动${APPNAME}"
!define MUI_UNCONFIRMPAGE_TEXT_TOP "将从这台电脑上删除${APPNAME}程序及其快捷方式。您的数据（数据库、备份、密钥、设置）不会被删除，仍保留在：$UserData"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "SimpChinese"


; Refuse while the program runs: the app holds the named mutex as long as it runs.
!macro RefuseWhileRunning UN
Function ${UN}RefuseWhileRunning
  retry:
    System::Call 'kernel32::OpenMutexW(i 0x00100000, i 0, w "${MUTEX}") p .r0'
    ${If} $0 P<> 0
      System::Call 'kernel32::CloseHandle(p r0)'
      MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "${APPNAME}正在运行。请先关闭所有${APPNAME}窗口和命令行程序（jzair.exe），再点“重试”。" /SD IDCANCEL IDRETRY retry
      SetErrorLevel 2
      Quit
    ${EndIf}
FunctionEnd
!macroend
!insertmacro RefuseWhileRunning ""
!insertmacro RefuseWhileRunning "un."

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "本程序需要 64 位 Windows 10 或 Windows 11。" /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  SetRegView 64
  StrCpy $UserData "$LOCALAPPDATA\jzair_desktop"
  Call RefuseWhileRunning
  ; Per user unless /ALLUSERS is given (then administrator rights are required): an administrator who
  ; double-clicks gets the same per-user installation as everyone else, and later upgrades need no rights.
  StrCpy $AllUsers 0
  ${GetParameters} $R1
  ClearErrors
  ${GetOptions} $R1 "/ALLUSERS" $R2
  ${IfNot} ${Errors}
    UserInfo::GetAccountType
    Pop $0
    ${If} $0 != "Admin"
      MessageBox MB_ICONSTOP "为所有用户安装（/ALLUSERS）需要管理员权限。请以管理员身份运行，或不加 /ALLUSERS 只为当前用户安装。" /SD IDOK
      SetErrorLevel 2
      Quit
    ${EndIf}
    StrCpy $AllUsers 1
    ${If} $INSTDIR == "$LOCALAPPDATA\Programs\${APPKEY}"  ; the default, not a /D= choice
      StrCpy $INSTDIR "$PROGRAMFILES64\${APPKEY}"
    ${EndIf}
    SetShellVarContext all
  ${EndIf}
  ; An earlier installation: upgrade it where it is.
  ${If} $AllUsers == 1
    ReadRegStr $1 HKLM "${UNINSTKEY}" "InstallLocation"
  ${Else}
    ReadRegStr $1 HKCU "${UNINSTKEY}" "InstallLocation"
  ${EndIf}
  ${If} $1 != ""
  ${AndIf} ${FileExists} "$1\jzair.exe"
    StrCpy $INSTDIR $1
  ${EndIf}
FunctionEnd

Section "程序" SecMain
  SectionIn RO
  ; Leftovers of an interrupted earlier run.
  RMDir /r "$INSTDIR.new"
  RMDir /r "$INSTDIR.old"

  ; Can we write there at all?
  ClearErrors
  CreateDirectory "$INSTDIR.new"
  FileOpen $0 "$INSTDIR.new\.write-test" w
  ${If} ${Errors}
    MessageBox MB_ICONSTOP "无法写入安装文件夹：$INSTDIR$\r$\n（没有写入权限，或磁盘已满/写保护）。请选择您有写入权限的文件夹，例如 $LOCALAPPDATA\Programs\${APPKEY}。" /SD IDOK
    RMDir /r "$INSTDIR.new"
    SetErrorLevel 2
    Quit
  ${EndIf}
  FileClose $0
  Delete "$INSTDIR.new\.write-test"

  ; 1. The new program, whole, beside the old one.
  DetailPrint "正在解压程序文件……"
  SetOutPath "$INSTDIR.new"
  File /r "${SRCDIR}\*"
  WriteUninstaller "$INSTDIR.new\uninstall.exe"

  ; 2. Swap: old -> .old, new -> final; on failure put the old one back.
  SetOutPath "$TEMP"
  ${If} ${FileExists} "$INSTDIR\*.*"
    ClearErrors
    Rename "$INSTDIR" "$INSTDIR.old"
    ${If} ${Errors}
      RMDir /r "$INSTDIR.new"
      MessageBox MB_ICONSTOP "无法替换旧版本的程序文件（可能仍有程序在使用它们）。旧版本保持不变，请关闭${APPNAME}后重新安装。" /SD IDOK
      SetErrorLevel 2
      Quit
    ${EndIf}
  ${EndIf}
  ClearErrors
  Rename "$INSTDIR.new" "$INSTDIR"
  ${If} ${Errors}
    Rename "$INSTDIR.old" "$INSTDIR"
    RMDir /r "$INSTDIR.new"
    MessageBox MB_ICONSTOP "无法完成安装：新版本的程序文件无法移入 $INSTDIR。旧版本保持不变。" /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  RMDir /r "$INSTDIR.old"
  SetOutPath "$INSTDIR"

  ; 3. Shortcuts and the entry in 应用和功能.
  CreateDirectory "$SMPROGRAMS\${APPNAME}"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\${APPNAME}.lnk" "$INSTDIR\jzair_desktop.exe" "" "$INSTDIR\jzair_desktop.exe" 0
  CreateShortcut "$SMPROGRAMS\${APPNAME}\卸载${APPNAME}.lnk" "$INSTDIR\uninstall.exe" "" "$INSTDIR\uninstall.exe" 0
  CreateShortcut "$DESKTOP\${APPNAME}.lnk" "$INSTDIR\jzair_desktop.exe" "" "$INSTDIR\jzair_desktop.exe" 0

  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  ${If} $AllUsers == 1
    WriteRegStr HKLM "${UNINSTKEY}" "DisplayName" "${APPNAME_LONG}"
    WriteRegStr HKLM "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
    WriteRegStr HKLM "${UNINSTKEY}" "Publisher" "${PUBLISHER}"
    WriteRegStr HKLM "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\jzair_desktop.exe,0"
    WriteRegStr HKLM "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
    WriteRegStr HKLM "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
    WriteRegStr HKLM "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
    WriteRegDWORD HKLM "${UNINSTKEY}" "EstimatedSize" $0
    WriteRegDWORD HKLM "${UNINSTKEY}" "NoModify" 1
    WriteRegDWORD HKLM "${UNINSTKEY}" "NoRepair" 1
  ${Else}
    WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "${APPNAME_LONG}"
    WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
    WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "${PUBLISHER}"
    WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\jzair_desktop.exe,0"
    WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
    WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
    WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
    WriteRegDWORD HKCU "${UNINSTKEY}" "EstimatedSize" $0
    WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
    WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
  ${EndIf}
  DetailPrint "安装完成。您的数据保存在：$UserData"
SectionEnd

Function un.onInit
  SetRegView 64
  StrCpy $UserData "$LOCALAPPDATA\jzair_desktop"
  Call un.RefuseWhileRunning
  ReadRegStr $1 HKLM "${UNINSTKEY}" "InstallLocation"
  ${If} $1 != ""
  ${AndIf} $1 == $INSTDIR
    SetShellVarContext all
  ${EndIf}
FunctionEnd

Section "Uninstall"
  ; Only the program: the data folder (UserData) stays.
  Delete "$DESKTOP\${APPNAME}.lnk"
  RMDir /r "$SMPROGRAMS\${APPNAME}"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\jzair.exe"
  Delete "$INSTDIR\jzair_desktop.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  ReadRegStr $1 HKLM "${UNINSTKEY}" "InstallLocation"
  ${If} $1 == $INSTDIR
    DeleteRegKey HKLM "${UNINSTKEY}"
  ${Else}
    DeleteRegKey HKCU "${UNINSTKEY}"
  ${EndIf}
  DetailPrint "程序已删除。您的数据（数据库、备份、密钥、设置）保留在：$UserData"
  DetailPrint "如不再需要，可手动删除该文件夹。"
  ${IfNot} ${Silent}
    MessageBox MB_ICONINFORMATION "${APPNAME}已卸载。$\r$\n$\r$\n您的数据保留在：$\r$\n$UserData$\r$\n（数据库、备份、密钥、设置）。重新安装后可继续使用；如不再需要，可手动删除该文件夹。"
  ${EndIf}
SectionEnd
