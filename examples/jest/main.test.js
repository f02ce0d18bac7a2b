// main.test.js
const { ipcRenderer } = require('electron') // resolves to ipc-main
require('./main')

test('sum', async () => {
  await expect(ipcRenderer.invoke('sum', 2, 3)).resolves.toBe(5)
  await expect(ipcRenderer.invoke('nope')).rejects.toThrow(
    "Error invoking remote method 'nope': Error: No handler registered for 'nope'",
  )
})

test('log replies', async () => {
  const replied = new Promise(resolve => ipcRenderer.once('logged', (event, n) => resolve(n)))
  ipcRenderer.send('log', 'hello')
  expect(await replied).toBe(5)
})
