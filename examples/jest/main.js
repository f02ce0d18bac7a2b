// main.js (your app, unchanged)
const { ipcMain } = require('electron')
ipcMain.handle('sum', (event, a, b) => a + b)
ipcMain.on('log', (event, line) => event.reply('logged', line.length))
