# escape=`

FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop';"]
WORKDIR C:\app
COPY app\ C:\app\
RUN New-Item -ItemType Directory -Path C:\data ; `
    Set-Content -Path C:\data\ready.txt -Value "ok"
ENV APP_HOME=C:\app `
    LOG_DIR=C:\logs
CMD ["C:\\app\\server.exe"]
